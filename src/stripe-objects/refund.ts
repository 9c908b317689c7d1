import { reviewOccasion } from '../billing/notice-refunds';
import { refundRepository } from '../db/refunds';
import { walletLocks, walletOfPayments } from '../effects/wallet-effects';
import type { ObjectKind } from './object-kind';
import { paymentLock } from './payment-links';
import { readRefund, type RefundRow, type RefundSnapshot } from './refund-schema';
import { retrieveOrNull } from './retrieve';
import { fieldsBut, joinListedStep, joinStep, known, type RowJoin } from './row-join';

/**
 * pending or requires_action, then succeeded, then failed or canceled: Stripe documents that a
 * succeeded refund can still fail. A status Stripe adds later (or none) ranks like pending.
 */
const STATUS_RANK = new Map([
  ['pending', 0],
  ['requires_action', 0],
  ['succeeded', 1],
  ['failed', 2],
  ['canceled', 2],
]);

export const refundJoin: RowJoin<RefundSnapshot, RefundRow> = {
  rowOf: (s) => ({ ...s.refund, lastEventId: s.eventId, lastEventCreatedAt: s.eventCreated, stripeAccountId: s.account }),
  rank: (row) => (row.status === null ? 0 : (STATUS_RANK.get(row.status) ?? 0)),
  merge: (winner, other) => ({
    ...winner,
    stripeChargeId: known(winner.stripeChargeId, other.stripeChargeId),
    stripePaymentIntentId: known(winner.stripePaymentIntentId, other.stripePaymentIntentId),
  }),
  ownFields: fieldsBut<RefundRow>('stripeChargeId', 'stripePaymentIntentId'),
};

const EVENT_TYPES = ['charge.refund.updated', 'refund.created', 'refund.failed', 'refund.updated'] as const;

/** refund.* carry a Refund, and so does charge.refund.updated (listed with charge.* events). */
const carriesRefund = (type: string): boolean => type.startsWith('refund.') || type.startsWith('charge.refund.');

export const refundKind: ObjectKind<RefundSnapshot, RefundRow> = {
  object: 'refund',
  eventTypes: EVENT_TYPES,
  thinEventTypes: EVENT_TYPES.map((t) => `v1.${t}`),
  eventPattern: 'refund.*',
  carries: carriesRefund,
  carriesThin: (type) => type.startsWith('v1.') && carriesRefund(type.slice('v1.'.length)),
  read: readRefund,
  key: (s) => s.refund.stripeRefundId,
  sharedLocks: (s) => paymentLock(s.refund.stripePaymentIntentId, s.refund.stripeChargeId),
  relatedLocks: (db, snapshots) =>
    walletLocks(db, { chargeIds: snapshots.flatMap((s) => s.refund.stripeChargeId ?? []), paymentIntentIds: snapshots.flatMap((s) => s.refund.stripePaymentIntentId ?? []) }),
  invoiceOf: () => null,
  invoiceOfObjectId: () => null,
  reduce: joinStep(refundJoin),
  reduceListed: joinListedStep(refundJoin),
  repository: refundRepository,
  // A refund, whichever event named it first (its own, or its charge's list), moves the wallet of
  // a credited invoice and is told with its charge's other refunds once the charge is linked to
  // an invoice.
  effects: async (db, changes, now, runners) => {
    await walletOfPayments(db, {
      chargeIds: changes.flatMap((c) => c.next.stripeChargeId ?? []),
      paymentIntentIds: changes.flatMap((c) => (c.next.stripeChargeId === null ? (c.next.stripePaymentIntentId ?? []) : [])),
    });
    if (!runners.notices) return { queued: 0, skipped: 0 };
    const reviews = changes.flatMap((c) =>
      c.next.stripeChargeId === null ? [] : [{ chargeId: c.next.stripeChargeId, occasion: reviewOccasion(c, c.snapshot.eventCreated) }],
    );
    return runners.notices.payments(db, reviews, now);
  },
  goneObject: () => null,
  retrieve: (stripe, id, account) => retrieveOrNull((options) => stripe.refunds.retrieve(id, {}, options), account),
};
