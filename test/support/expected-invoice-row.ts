/**
 * The invoice row a test expects, written from Stripe's invoice JSON field by field. It shares no
 * code with the consumer (no merge, no snapshot parsing), so a mapping the consumer gets wrong
 * shows up as a difference instead of being repeated on both sides.
 */
import type { InvoiceState } from '../../src/billing/invoice-state';

type Json = Record<string, unknown>;
type StripeEvent = Record<string, unknown>;

export interface ExpectedRowOptions {
  /** The event the row last took its fields from. */
  lastEventId: string;
  lastEventCreatedAt: number;
  /** The clock the overdue flag is judged by. */
  nowSeconds: number;
  /** When the draft was deleted (the invoice.deleted event's `created`); null when it was not. */
  deletedAt?: number | null;
  /** The connected account of the events (their `account`); null, the default, for the platform's own. */
  account?: string | null;
}

const textOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const secondsOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

function cents(invoice: Json, field: string): number {
  const v = invoice[field];
  if (typeof v !== 'number') throw new Error(`the test's invoice has no ${field}`);
  return v;
}

/** `customer` is an id, or the customer object when the request expanded it. */
function customerId(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as Json)['id'] === 'string') return (v as Json)['id'] as string;
  return null;
}

/** The row for an invoice whose last state Stripe sent is `invoice` (an event's `data.object`). */
export function expectedInvoiceRow(invoice: Json, o: ExpectedRowOptions): InvoiceState {
  const transitions = (invoice['status_transitions'] ?? {}) as Json;
  const status = invoice['status'] as InvoiceState['status'];
  const dueDate = secondsOrNull(invoice['due_date']);
  const amountRemainingCents = cents(invoice, 'amount_remaining');
  const deletedAt = o.deletedAt ?? null;
  return {
    stripeInvoiceId: invoice['id'] as string,
    stripeCustomerId: customerId(invoice['customer']),
    customerEmail: textOrNull(invoice['customer_email']),
    customerName: textOrNull(invoice['customer_name']),
    number: textOrNull(invoice['number']),
    status,
    // Stripe has no overdue status: open, past due, money still owed, and not a deleted draft.
    overdue: status === 'open' && deletedAt === null && dueDate !== null && dueDate < o.nowSeconds && amountRemainingCents > 0,
    amountCents: cents(invoice, 'amount_due'),
    amountPaidCents: cents(invoice, 'amount_paid'),
    amountRemainingCents,
    totalCents: cents(invoice, 'total'),
    currency: (invoice['currency'] as string).toLowerCase(),
    dueDate,
    collectionMethod: textOrNull(invoice['collection_method']),
    billingReason: textOrNull(invoice['billing_reason']),
    hostedInvoiceUrl: textOrNull(invoice['hosted_invoice_url']),
    invoicePdfUrl: textOrNull(invoice['invoice_pdf']),
    livemode: invoice['livemode'] === true,
    metadata: (invoice['metadata'] ?? {}) as Record<string, string>,
    attemptCount: secondsOrNull(invoice['attempt_count']) ?? 0,
    stripeCreatedAt: secondsOrNull(invoice['created']),
    finalizedAt: secondsOrNull(transitions['finalized_at']),
    paidAt: secondsOrNull(transitions['paid_at']),
    voidedAt: secondsOrNull(transitions['voided_at']),
    markedUncollectibleAt: secondsOrNull(transitions['marked_uncollectible_at']),
    deletedAt,
    lastEventId: o.lastEventId,
    lastEventCreatedAt: o.lastEventCreatedAt,
    stripeAccountId: o.account ?? null,
  };
}

const objectOf = (e: StripeEvent) => (e['data'] as { object: Json }).object;
const createdOf = (e: StripeEvent) => e['created'] as number;
const idOf = (e: StripeEvent) => e['id'] as string;
/** Stripe's deletion stub, `{id, object, deleted: true}`: it says the draft is gone and nothing else. */
const isStub = (e: StripeEvent) => objectOf(e)['deleted'] === true && !('status' in objectOf(e));

/**
 * The final row of one invoice's lifecycle. `events` is the lifecycle oldest first as the test
 * built it, possibly followed by copies of its changes (a redelivery, or one change re-sent under
 * a second event id, which keeps the invoice and `created`): the final state is the last one
 * listed that is not such a copy. Stripe often sends that state under several event ids in its
 * last second (invoice.paid and invoice.payment_succeeded, or a re-send); the row names the
 * greatest of those ids, the rule that lets every consumer write the same row whatever order it
 * saw them in.
 */
export function expectedFinalRow(events: readonly StripeEvent[], nowSeconds: number): InvoiceState {
  const states = events.filter((e) => !isStub(e));
  // Compared as JSON: a copy made with structuredClone comes from another realm under jest, which a
  // strict deep-equal would tell apart by prototype.
  const sameChange = (a: StripeEvent, b: StripeEvent) => createdOf(a) === createdOf(b) && JSON.stringify(objectOf(a)) === JSON.stringify(objectOf(b));
  const last = states.filter((e, i) => !states.slice(0, i).some((earlier) => sameChange(earlier, e))).at(-1);
  if (last === undefined) throw new Error('a lifecycle with no invoice state');
  const carriers = states.filter((e) => sameChange(e, last));
  const lastEventId = carriers.map(idOf).reduce((a, b) => (b > a ? b : a));
  const deletions = events.filter((e) => e['type'] === 'invoice.deleted' || objectOf(e)['deleted'] === true).map(createdOf);
  return expectedInvoiceRow(objectOf(last), {
    lastEventId,
    lastEventCreatedAt: createdOf(last),
    nowSeconds,
    deletedAt: deletions.length === 0 ? null : Math.min(...deletions),
    account: typeof last['account'] === 'string' ? last['account'] : null,
  });
}
