import type { InvoiceState } from './invoice-state';
import { isOverdue } from './overdue';
import { MalformedEventError } from '../errors';
import { snapshotFromEvent, type InvoiceSnapshot } from './snapshot';
import { fetchedObjectEvent } from './fetched-event';

/**
 * Reconcile's pure half: Stripe's current invoice (from GET /v1/invoices) against our row.
 * Unlike mergeInvoice this overwrites: reconcile exists for rows that are wrong, and the merge's
 * status ladder would keep a corrupted `paid` forever.
 */

/**
 * Where a snapshot read from the API (not from an event) came from; it is also the snapshot's
 * event type, which no Stripe event has and no notice keys on (payment_failed does).
 */
export type ApiSource = 'reconcile' | 'import';

/**
 * What a repaired row records as its last event. There is no event: the row now holds Stripe's
 * state as it was when the list request was sent, so it is dated then (as thin events are dated
 * at fetch time), and a later event orders against it by when each state was true. The id names
 * the fetch and sorts before every Stripe event id (`evt_…`), so in a same-second tie of status,
 * amount paid and attempts the real event wins: the same benefit of the doubt planRepair gives
 * an event created in the second of the fetch. It is never a stripe_events id, so replays and
 * lookups by id pass it by.
 */
export function reconcileEventId(fetchedAt: number, source: ApiSource = 'reconcile'): string {
  return `api_${source}_${fetchedAt}`;
}

/**
 * Reads one invoice as listed by Stripe, as the connected account it was listed as (null: the
 * platform); throws MalformedEventError when it cannot become a row.
 */
export function snapshotFromListedInvoice(invoice: Record<string, unknown>, fetchedAt: number, source: ApiSource = 'reconcile', account: string | null = null): InvoiceSnapshot {
  const snapshot = snapshotFromEvent(fetchedObjectEvent(invoice, { id: reconcileEventId(fetchedAt, source), type: source, fetchedAt, livemode: invoice['livemode'] === true, account }));
  // The list endpoint never returns deletion stubs; one here would erase a row's fields.
  if (snapshot.fields === null) throw new MalformedEventError(`invoice ${snapshot.stripeInvoiceId} was listed as a deletion stub`);
  return snapshot;
}

/**
 * The row Stripe's state implies. Everything comes from Stripe but the deletion mark: a listed
 * invoice exists, yet a draft deleted after the list request (its invoice.deleted already merged)
 * would be resurrected, so a draft keeps the mark; only drafts can be deleted, so on any other
 * status a mark is corruption and goes.
 */
export function stripeState(snapshot: InvoiceSnapshot, current: InvoiceState | null, nowSeconds: number): InvoiceState {
  const fields = snapshot.fields;
  if (fields === null) throw new MalformedEventError(`invoice ${snapshot.stripeInvoiceId}: a deletion stub has no state to repair from`);
  const state: InvoiceState = {
    stripeInvoiceId: snapshot.stripeInvoiceId,
    ...fields,
    overdue: false,
    deletedAt: fields.status === 'draft' ? (current?.deletedAt ?? null) : null,
    lastEventId: snapshot.eventId,
    lastEventCreatedAt: snapshot.eventCreated,
    stripeAccountId: snapshot.account,
  };
  state.overdue = isOverdue(state, nowSeconds);
  return state;
}

export interface FieldDifference {
  field: keyof InvoiceState;
  ours: unknown;
  stripe: unknown;
}

/**
 * Compared fields: what Stripe is the source of. Not compared: the last-event bookkeeping
 * (ours by definition), the account (a row's owner never changes: the pipeline refuses a read of
 * another) and `overdue`, which the sweep derives from the clock; a repair still recomputes it.
 */
const NOT_COMPARED: ReadonlySet<keyof InvoiceState> = new Set(['overdue', 'lastEventId', 'lastEventCreatedAt', 'stripeAccountId']);

const sortedJson = (m: Record<string, string>) => JSON.stringify(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Field by field, in InvoiceState's order; metadata compares by content, not key order. */
export function invoiceDifferences(ours: InvoiceState, stripe: InvoiceState): FieldDifference[] {
  const out: FieldDifference[] = [];
  for (const field of Object.keys(stripe) as (keyof InvoiceState)[]) {
    if (NOT_COMPARED.has(field)) continue;
    const same = field === 'metadata' ? sortedJson(ours.metadata) === sortedJson(stripe.metadata) : ours[field] === stripe[field];
    if (!same) out.push({ field, ours: ours[field], stripe: stripe[field] });
  }
  return out;
}

export type RepairPlan =
  | { action: 'insert'; next: InvoiceState; differences: FieldDifference[] }
  | { action: 'unchanged' }
  | { action: 'repair'; next: InvoiceState; differences: FieldDifference[] }
  | { action: 'skip'; reason: 'changed_since_fetch'; differences: FieldDifference[] };

/**
 * Decides what to do with one row. A row whose last event was created at or after the fetch
 * holds news the fetched state may not have (an event in the same second is given the benefit of
 * the doubt), so it is left for the next run rather than rolled back. A last event dated after
 * `now` cannot be real (Stripe does not create events in the future): that row is repaired.
 */
export function planRepair(current: InvoiceState | null, snapshot: InvoiceSnapshot, nowSeconds: number): RepairPlan {
  const next = stripeState(snapshot, current, nowSeconds);
  if (current === null) return { action: 'insert', next, differences: [] };
  const differences = invoiceDifferences(current, next);
  if (differences.length === 0) return { action: 'unchanged' };
  const fetchedAt = snapshot.eventCreated;
  if (current.lastEventCreatedAt >= fetchedAt && current.lastEventCreatedAt <= nowSeconds) {
    return { action: 'skip', reason: 'changed_since_fetch', differences };
  }
  return { action: 'repair', next, differences };
}
