import type { EntityManager } from 'typeorm';
import { reviewOccasion } from '../billing/notice-refunds';
import { chargeRepository } from '../db/charges';
import { walletLocks, walletOfPayments } from '../effects/wallet-effects';
import { objectLockName } from '../db/object-locks';
import { readCharge, type ChargeRow, type ChargeSnapshot } from './charge-schema';
import type { Change, ChangeMode, EffectCounts, EffectRunners, ObjectKind } from './object-kind';
import { linkPayments, paymentLock } from './payment-links';
import { retrieveOrNull } from './retrieve';
import { fieldsBut, joinListedStep, joinStep, known, type RowJoin } from './row-join';

/** pending, then succeeded or failed: a succeeded charge never goes back, a failed one is final. A status Stripe adds later ranks like pending. */
const STATUS_RANK = new Map([
  ['pending', 0],
  ['succeeded', 1],
  ['failed', 1],
]);

export const chargeJoin: RowJoin<ChargeSnapshot, ChargeRow> = {
  rowOf: (s) => ({ ...s.charge, lastEventId: s.eventId, lastEventCreatedAt: s.eventCreated, stripeAccountId: s.account }),
  rank: (row) => STATUS_RANK.get(row.status) ?? 0,
  merge: (winner, other) => ({
    ...winner,
    stripePaymentIntentId: known(winner.stripePaymentIntentId, other.stripePaymentIntentId),
    stripeInvoiceId: known(winner.stripeInvoiceId, other.stripeInvoiceId),
    stripeCustomerId: known(winner.stripeCustomerId, other.stripeCustomerId),
    receiptUrl: known(winner.receiptUrl, other.receiptUrl),
    paymentMethodType: known(winner.paymentMethodType, other.paymentMethodType),
    // Captures and refunds only add up; a snapshot from before one never takes it back.
    amountCapturedCents: Math.max(winner.amountCapturedCents, other.amountCapturedCents),
    amountRefundedCents: Math.max(winner.amountRefundedCents, other.amountRefundedCents),
    refunded: winner.refunded || other.refunded,
  }),
  ownFields: fieldsBut<ChargeRow>('stripePaymentIntentId', 'stripeInvoiceId', 'stripeCustomerId', 'receiptUrl', 'paymentMethodType', 'amountCapturedCents', 'amountRefundedCents', 'refunded'),
};

const EVENT_TYPES = ['charge.captured', 'charge.expired', 'charge.failed', 'charge.pending', 'charge.refunded', 'charge.succeeded', 'charge.updated'] as const;

/** charge.dispute.* carry a Dispute and charge.refund.* a Refund: not charges. */
const carriesCharge = (type: string): boolean => type.startsWith('charge.') && !type.startsWith('charge.dispute.') && !type.startsWith('charge.refund.');

type ChargeChange = Change<ChargeSnapshot, ChargeRow> & ChangeMode;

/**
 * The links a charge makes with its invoice payment; then, once it is linked to an invoice, the
 * wallet entries of its refunds, its refund notices (a rise of amount_refunded; the refunds it lists count as known) and the receipt
 * that waits for it.
 */
async function chargeEffects(db: EntityManager, changes: readonly ChargeChange[], now: number, runners: EffectRunners): Promise<EffectCounts> {
  await linkPayments(db, { invoicePaymentIds: [], chargeIds: changes.map((c) => c.next.stripeChargeId) });
  await walletOfPayments(db, { chargeIds: changes.map((c) => c.next.stripeChargeId), paymentIntentIds: [] });
  if (!runners.notices) return { queued: 0, skipped: 0 };
  return runners.notices.payments(
    db,
    changes.map((c) => ({ chargeId: c.next.stripeChargeId, occasion: reviewOccasion(c, c.snapshot.eventCreated), listed: c.snapshot.refunds })),
    now,
  );
}

export const chargeKind: ObjectKind<ChargeSnapshot, ChargeRow> = {
  object: 'charge',
  eventTypes: EVENT_TYPES,
  thinEventTypes: EVENT_TYPES.map((t) => `v1.${t}`),
  eventPattern: 'charge.*',
  carries: carriesCharge,
  carriesThin: (type) => type.startsWith('v1.') && carriesCharge(type.slice('v1.'.length)),
  read: readCharge,
  key: (s) => s.charge.stripeChargeId,
  // An older layout's charge names its invoice, which the charge's wallet effects read.
  sharedLocks: (s) => [...paymentLock(s.charge.stripePaymentIntentId, s.charge.stripeChargeId), ...(s.charge.stripeInvoiceId === null ? [] : [objectLockName('invoice', s.charge.stripeInvoiceId)])],
  relatedLocks: (db, snapshots) =>
    walletLocks(db, { chargeIds: snapshots.map((s) => s.charge.stripeChargeId), paymentIntentIds: snapshots.flatMap((s) => s.charge.stripePaymentIntentId ?? []) }),
  nested: (s) => s.refunds.map((snapshot) => ({ object: 'refund', snapshot })),
  invoiceOf: (s) => s.charge.stripeInvoiceId,
  // A charge's id (ch_…, py_…) names no invoice.
  invoiceOfObjectId: () => null,
  reduce: joinStep(chargeJoin),
  reduceListed: joinListedStep(chargeJoin),
  repository: chargeRepository,
  effects: chargeEffects,
  goneObject: () => null,
  retrieve: (stripe, id, account) => retrieveOrNull((options) => stripe.charges.retrieve(id, {}, options), account),
};
