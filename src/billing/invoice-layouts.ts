import { z } from 'zod';
import { statusAsSent, type InvoiceStatus, type SnapshotFields, type StripeInvoiceStatus } from './invoice-state';

/**
 * Every layout of the Invoice object that Stripe still sends. A webhook endpoint receives events
 * in the API version it was created with, so an account's oldest endpoint may be pinned to 2016.
 * What moved, by Stripe's changelog, its "Invoices API updates" guide and its earlier docs:
 *
 * - 2016: no `status`: the state is the booleans `paid`, `closed` (Stripe no longer tries to
 *   collect) and `forgiven`; no `amount_paid` / `amount_remaining`; creation time in `date`; no
 *   `billing`, as every invoice was charged automatically.
 * - then `billing` (charge_automatically | send_invoice) with `due_date`.
 * - 2018 (additions Stripe shows on every version): `status`, `amount_paid`, `amount_remaining`,
 *   a top-level `finalized_at`, `customer_email`.
 * - 2018-11-08: `forgiven` replaced by the status `uncollectible`; `closed` replaced by `auto_advance`.
 * - 2019-03-14: `date` renamed `created`; `finalized_at` moved into `status_transitions`.
 * - 2019-10-17: `billing` renamed `collection_method`.
 * - 2025-03-31: `paid` removed (and charge, payment_intent, top-level subscription; not read here).
 *
 * The newer name wins where a payload carries both (2018–2019 payloads often do).
 */

const cents = z.number().int().safe();
/** The last second of 9999: later times are no invoice's, and PostgreSQL's timestamptz ends not far beyond. */
const LAST_STORABLE_SECOND = 253_402_300_799;
export const unixSeconds = z.number().int().nonnegative().max(LAST_STORABLE_SECOND, 'is not a time before the year 10000');
const text = z.string().max(5000);
/** Stripe expands some references to objects; only the id matters here. */
const idOrObject = z.union([text, z.object({ id: text })]).transform((v) => (typeof v === 'string' ? v : v.id));

/**
 * Stripe's enum values are lowercase snake_case, so anything else is not a status Stripe sent.
 * `overdue` is the processor's own word (the finance views' display_status, the CLI's filter) for
 * an open invoice past due; Stripe documents that it has no such status.
 */
const status = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9_]*$/, 'must be a lowercase Stripe status name')
  .refine((s) => s !== 'overdue', "'overdue' is not a Stripe status (an overdue invoice is open)");

export const invoiceSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('invoice'),
  customer: idOrObject.nullish(),
  customer_email: text.nullish(),
  customer_name: text.nullish(),
  number: text.nullish(),
  /** Absent before 2018; null is allowed by today's SDK type. */
  status: status.nullish(),
  amount_due: cents,
  amount_paid: cents.optional(),
  amount_remaining: cents.optional(),
  total: cents,
  currency: z.string().regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO currency code'),
  due_date: unixSeconds.nullish(),
  collection_method: text.nullish(),
  /** collection_method before 2019-10-17. */
  billing: text.nullish(),
  billing_reason: text.nullish(),
  hosted_invoice_url: text.nullish(),
  invoice_pdf: text.nullish(),
  livemode: z.boolean().optional(),
  metadata: z.record(z.string(), z.string()).nullish(),
  attempt_count: z.number().int().nonnegative().safe().nullish(),
  attempted: z.boolean().nullish(),
  created: unixSeconds.nullish(),
  /** created before 2019-03-14. */
  date: unixSeconds.nullish(),
  /** status_transitions.finalized_at before 2019-03-14. */
  finalized_at: unixSeconds.nullish(),
  status_transitions: z
    .object({
      finalized_at: unixSeconds.nullish(),
      paid_at: unixSeconds.nullish(),
      voided_at: unixSeconds.nullish(),
      marked_uncollectible_at: unixSeconds.nullish(),
    })
    .nullish(),
  // The state before statuses: `closed` and `forgiven` removed 2018-11-08, `paid` 2025-03-31.
  paid: z.boolean().nullish(),
  closed: z.boolean().nullish(),
  forgiven: z.boolean().nullish(),
});

export type InvoiceBody = z.infer<typeof invoiceSchema>;

/**
 * When the invoice was finalized: null when the payload says it was not (yet), undefined when its
 * layout predates finalization (before 2018 nothing was).
 */
function finalization(inv: InvoiceBody): number | null | undefined {
  if (inv.status_transitions != null && inv.status_transitions.finalized_at !== undefined) return inv.status_transitions.finalized_at;
  return inv.finalized_at;
}

/** A payload with neither name predates send_invoice: Stripe then charged every invoice automatically. */
const collectionMethodOf = (inv: InvoiceBody): string | null =>
  inv.collection_method === undefined && inv.billing === undefined ? 'charge_automatically' : (inv.collection_method ?? inv.billing ?? null);

/**
 * The status of a payload without one (before 2018, or null), from Stripe's documentation of the
 * old fields and of the statuses that replaced them:
 * 1. `paid` → paid: "payment was successfully collected", whatever else is set.
 * 2. `forgiven` → uncollectible: the 2018-11-08 change replaced `forgiven` with this status.
 * 3. A payload that has a finalization time: open when set, draft when null (Stripe's guide: an
 *    invoice becomes open as it is finalized; until then it is a draft).
 * 4. Not yet attempted, not closed, charged automatically → draft. Stripe waited about an hour
 *    after invoice.created before attempting payment so that the invoice could still be adjusted
 *    (`closed: false`, `attempted: false`); an invoice that can still change is what the 2018
 *    guide calls `draft`, and it is finalized when Stripe goes on to collect. A send_invoice
 *    invoice is emailed rather than attempted, so `attempted: false` says nothing about it.
 * 5. Anything else → open, `closed` included: closing stopped automatic collection, which the
 *    2018-11-08 change expressed as `auto_advance: false` on an invoice still owed, not as a status.
 */
export function derivedStatus(inv: InvoiceBody): InvoiceStatus {
  if (inv.paid === true) return 'paid';
  if (inv.forgiven === true) return 'uncollectible';
  const finalizedAt = finalization(inv);
  if (finalizedAt !== undefined) return finalizedAt === null ? 'draft' : 'open';
  if (inv.attempted === false && inv.closed !== true && collectionMethodOf(inv) !== 'send_invoice') return 'draft';
  return 'open';
}

/**
 * amount_paid and amount_remaining (= amount_due - amount_paid, Stripe's definition) where a payload
 * lacks them: from the one it has, else from the status (a paid invoice was paid in full; any
 * other owes all it is due).
 */
export function derivedAmounts(inv: InvoiceBody, status: StripeInvoiceStatus): { paid: number; remaining: number } {
  const due = inv.amount_due;
  if (inv.amount_paid !== undefined && inv.amount_remaining !== undefined) return { paid: inv.amount_paid, remaining: inv.amount_remaining };
  if (inv.amount_paid !== undefined) return { paid: inv.amount_paid, remaining: Math.max(due - inv.amount_paid, 0) };
  if (inv.amount_remaining !== undefined) return { paid: Math.max(due - inv.amount_remaining, 0), remaining: inv.amount_remaining };
  return status === 'paid' ? { paid: due, remaining: 0 } : { paid: 0, remaining: due };
}

/** The snapshot fields of a checked invoice, in today's names, whatever its layout. */
export function fieldsFromInvoice(inv: InvoiceBody, eventLivemode: boolean): SnapshotFields {
  const status = inv.status == null ? derivedStatus(inv) : statusAsSent(inv.status);
  const amounts = derivedAmounts(inv, status);
  const transitions = inv.status_transitions ?? {};
  return {
    stripeCustomerId: inv.customer ?? null,
    customerEmail: inv.customer_email ?? null,
    customerName: inv.customer_name ?? null,
    number: inv.number ?? null,
    status,
    amountCents: inv.amount_due,
    amountPaidCents: amounts.paid,
    amountRemainingCents: amounts.remaining,
    totalCents: inv.total,
    currency: inv.currency.toLowerCase(),
    dueDate: inv.due_date ?? null,
    collectionMethod: collectionMethodOf(inv),
    billingReason: inv.billing_reason ?? null,
    hostedInvoiceUrl: inv.hosted_invoice_url ?? null,
    invoicePdfUrl: inv.invoice_pdf ?? null,
    livemode: inv.livemode ?? eventLivemode,
    metadata: inv.metadata ?? {},
    attemptCount: inv.attempt_count ?? 0,
    stripeCreatedAt: inv.created ?? inv.date ?? null,
    finalizedAt: finalization(inv) ?? null,
    paidAt: transitions.paid_at ?? null,
    voidedAt: transitions.voided_at ?? null,
    markedUncollectibleAt: transitions.marked_uncollectible_at ?? null,
  };
}
