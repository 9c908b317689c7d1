import type { InvoiceState } from '../billing/invoice-state';
import { mergeInvoice, sameContent, sameState } from '../billing/merge';
import { snapshotFromEvent, type InvoiceSnapshot } from '../billing/snapshot';
import { invoiceRepository } from '../db/invoices';
import { walletOfPaidInvoices } from '../effects/wallet-effects';
import { retrieveOrNull } from './retrieve';
import type { ObjectKind, Step } from './object-kind';

/** Every invoice event Stripe sends but the preview, which has no id and never becomes a row. */
const EVENT_TYPES = [
  'invoice.created',
  'invoice.deleted',
  'invoice.finalization_failed',
  'invoice.finalized',
  'invoice.marked_uncollectible',
  'invoice.overdue',
  'invoice.overpaid',
  'invoice.paid',
  'invoice.payment_action_required',
  'invoice.payment_attempt_required',
  'invoice.payment_failed',
  'invoice.payment_succeeded',
  'invoice.sent',
  'invoice.updated',
  'invoice.voided',
  'invoice.will_be_due',
] as const;

/** Thin events Stripe sends about an invoice that have no snapshot twin. */
const THIN_ONLY_TYPES = [
  'v1.invoice.discount_added',
  'v1.invoice.discount_removed',
  'v1.invoice.line_item_added',
  'v1.invoice.line_item_pricing_changed',
  'v1.invoice.line_item_quantity_changed',
  'v1.invoice.line_item_removed',
] as const;

const PREVIEW = 'invoice.upcoming';

/** A merge step that hands back the row itself when the merged one is the same by `same`. */
const stepBy =
  (same: (a: InvoiceState, b: InvoiceState) => boolean): Step<InvoiceSnapshot, InvoiceState> =>
  (row, snapshot, { now }) => {
    const merged = mergeInvoice(row, snapshot, now);
    return row !== null && same(row, merged) ? row : merged;
  };

export const invoiceKind: ObjectKind<InvoiceSnapshot, InvoiceState> = {
  object: 'invoice',
  eventTypes: EVENT_TYPES,
  thinEventTypes: [...EVENT_TYPES.map((t) => `v1.${t}`), ...THIN_ONLY_TYPES].sort(),
  eventPattern: 'invoice.*',
  carries: (type) => type.startsWith('invoice.') && type !== PREVIEW,
  carriesThin: (type) => type.startsWith('v1.invoice.') && type !== `v1.${PREVIEW}`,
  read: (event) => snapshotFromEvent(event),
  key: (s) => s.stripeInvoiceId,
  invoiceOf: (s) => s.stripeInvoiceId,
  invoiceOfObjectId: (id) => id,
  reduce: stepBy(sameState),
  // The row keeps the event it last took its fields from while an API read says nothing new.
  reduceListed: stepBy(sameContent),
  repository: invoiceRepository,
  // The ledger first: it is written whatever the deployment's notices are.
  effects: async (db, changes, now, runners) => {
    await walletOfPaidInvoices(
      db,
      changes.map((c) => ({ previous: c.previous, next: c.next, sourceEventId: c.snapshot.eventId })),
    );
    if (!runners.notices) return { queued: 0, skipped: 0 };
    return runners.notices(
      db,
      changes.map((c) => (c.mode === 'baseline' ? { previous: c.previous, next: c.next, event: c.snapshot, mode: 'baseline', baselineAt: c.baselineAt } : { previous: c.previous, next: c.next, event: c.snapshot, mode: 'live' })),
      now,
    );
  },
  goneObject: (type, id) => (type === 'invoice.deleted' ? { id, object: 'invoice', deleted: true } : null),
  retrieve: (stripe, id, account) => retrieveOrNull((options) => stripe.invoices.retrieve(id, {}, options), account),
};
