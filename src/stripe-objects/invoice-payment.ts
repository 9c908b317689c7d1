import type { EntityManager } from 'typeorm';
import { reviewOccasion } from '../billing/notice-refunds';
import { linkedChargesOfPayments } from '../db/charges';
import { invoicePaymentRepository } from '../db/invoice-payments';
import { walletLocks, walletOfPayments } from '../effects/wallet-effects';
import { objectLockName } from '../db/object-locks';
import { readInvoicePayment, type InvoicePaymentRow, type InvoicePaymentSnapshot } from './invoice-payment-schema';
import type { Change, ChangeMode, EffectCounts, EffectRunners, ObjectKind } from './object-kind';
import { linkPayments, paymentLock } from './payment-links';
import { retrieveOrNull } from './retrieve';
import { fieldsBut, joinListedStep, joinStep, known, type RowJoin } from './row-join';

/** open, then paid or canceled, both terminal; a status Stripe adds later ranks like open. */
const STATUS_RANK = new Map([
  ['open', 0],
  ['paid', 1],
  ['canceled', 1],
]);

export const invoicePaymentJoin: RowJoin<InvoicePaymentSnapshot, InvoicePaymentRow> = {
  rowOf: (s) => ({ ...s.payment, lastEventId: s.eventId, lastEventCreatedAt: s.eventCreated, stripeAccountId: s.account }),
  rank: (row) => STATUS_RANK.get(row.status) ?? 0,
  merge: (winner, other) => ({
    ...winner,
    stripeInvoiceId: known(winner.stripeInvoiceId, other.stripeInvoiceId)!,
    stripePaymentIntentId: known(winner.stripePaymentIntentId, other.stripePaymentIntentId),
    stripeChargeId: known(winner.stripeChargeId, other.stripeChargeId),
    paidAt: known(winner.paidAt, other.paidAt),
    canceledAt: known(winner.canceledAt, other.canceledAt),
  }),
  ownFields: fieldsBut<InvoicePaymentRow>('stripeInvoiceId', 'stripePaymentIntentId', 'stripeChargeId', 'paidAt', 'canceledAt'),
};

const EVENT_TYPES = ['invoice_payment.paid'] as const;
/** Stripe sends thin events for every status an invoice payment reaches; only `paid` has a snapshot twin. */
const THIN_EVENT_TYPES = ['v1.invoice_payment.canceled', 'v1.invoice_payment.open', 'v1.invoice_payment.paid'] as const;

type InvoicePaymentChange = Change<InvoicePaymentSnapshot, InvoicePaymentRow> & ChangeMode;

/**
 * The links an invoice payment makes with its charge, and the wallet entries of refunds its link
 * makes known (a refund of a credited invoice seen before the link); then the linked charges of its payment are
 * looked at again: a refund seen before its charge was linked is told now, and a receipt waiting
 * for the charge is woken. Only the charges of the payment intent or charge its snapshot names,
 * whose `payment:` locks this transaction holds (see sharedLocks): its invoice's other charges
 * are another payment's, which a transaction of their own may be planning at the same time. A
 * charge's amount_refunded is as recent as its last event.
 */
async function invoicePaymentEffects(db: EntityManager, changes: readonly InvoicePaymentChange[], now: number, runners: EffectRunners): Promise<EffectCounts> {
  await linkPayments(db, { invoicePaymentIds: changes.map((c) => c.next.stripeInvoicePaymentId), chargeIds: [] });
  await walletOfPayments(db, {
    chargeIds: changes.flatMap((c) => c.snapshot.payment.stripeChargeId ?? []),
    paymentIntentIds: changes.flatMap((c) => c.snapshot.payment.stripePaymentIntentId ?? []),
  });
  if (!runners.notices || changes.length === 0) return { queued: 0, skipped: 0 };
  const byPaymentIntent = new Map<string, InvoicePaymentChange>();
  const byCharge = new Map<string, InvoicePaymentChange>();
  for (const c of changes) {
    if (c.snapshot.payment.stripePaymentIntentId !== null) byPaymentIntent.set(c.snapshot.payment.stripePaymentIntentId, c);
    if (c.snapshot.payment.stripeChargeId !== null) byCharge.set(c.snapshot.payment.stripeChargeId, c);
  }
  const charges = await linkedChargesOfPayments(db, { paymentIntentIds: [...byPaymentIntent.keys()], chargeIds: [...byCharge.keys()] });
  return runners.notices.payments(
    db,
    charges.map((ch) => {
      const change = byCharge.get(ch.stripeChargeId) ?? byPaymentIntent.get(ch.stripePaymentIntentId!)!;
      return { chargeId: ch.stripeChargeId, occasion: reviewOccasion(change, ch.lastEventCreatedAt) };
    }),
    now,
  );
}

export const invoicePaymentKind: ObjectKind<InvoicePaymentSnapshot, InvoicePaymentRow> = {
  object: 'invoice_payment',
  eventTypes: EVENT_TYPES,
  thinEventTypes: THIN_EVENT_TYPES,
  eventPattern: 'invoice_payment.*',
  carries: (type) => type.startsWith('invoice_payment.'),
  carriesThin: (type) => type.startsWith('v1.invoice_payment.'),
  read: readInvoicePayment,
  key: (s) => s.payment.stripeInvoicePaymentId,
  // Its invoice too: linking its charge can make that invoice's refunds known to the wallet.
  sharedLocks: (s) => [...paymentLock(s.payment.stripePaymentIntentId, s.payment.stripeChargeId), objectLockName('invoice', s.payment.stripeInvoiceId)],
  relatedLocks: (db, snapshots) =>
    walletLocks(db, { chargeIds: snapshots.flatMap((s) => s.payment.stripeChargeId ?? []), paymentIntentIds: snapshots.flatMap((s) => s.payment.stripePaymentIntentId ?? []) }),
  invoiceOf: (s) => s.payment.stripeInvoiceId,
  // An invoice payment's id (inpay_…) names no invoice.
  invoiceOfObjectId: () => null,
  reduce: joinStep(invoicePaymentJoin),
  reduceListed: joinListedStep(invoicePaymentJoin),
  repository: invoicePaymentRepository,
  effects: invoicePaymentEffects,
  goneObject: () => null,
  retrieve: (stripe, id, account) => retrieveOrNull((options) => stripe.invoicePayments.retrieve(id, {}, options), account),
};
