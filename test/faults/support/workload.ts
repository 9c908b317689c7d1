import { isDeepStrictEqual } from 'node:util';
import type { DataSource } from 'typeorm';
import { findInvoice } from '../../../src/db/invoices';
import { eventId, processedCount, resentAs, seededRandom, shuffle, voidLifecycle, type StripeEvent } from '../../integration/helpers';
import { withFields } from '../../notices/harness';
import { paidLifecycle } from '../../support/stripe-events';
import { waitFor } from '../../support/wait';
import { expectedFinalRow } from '../../support/expected-invoice-row';

export interface LifecycleInvoice {
  id: string;
  /** Every distinct event of the invoice, oldest first: the reference for its final row. */
  events: StripeEvent[];
}

export interface Workload {
  invoices: LifecycleInvoice[];
  /** What is delivered: every distinct event at least once, some twice or more, shuffled. */
  deliveries: StripeEvent[];
  distinctIds: string[];
}

/**
 * `invoices` whole lifecycles (a quarter end void, the rest paid), each with one change re-sent
 * under a second event id as Stripe does, then exact redeliveries up to `messages`, shuffled.
 * Every invoice has a customer email, so its notices really go out.
 */
export function lifecycleWorkload(invoices: number, messages: number, tag: string, seed: number): Workload {
  const random = seededRandom(seed);
  const start = Math.floor(Date.now() / 1000) - 86_400;
  const list: LifecycleInvoice[] = [];
  for (let i = 0; i < invoices; i++) {
    const id = `in_${tag}_${i.toString().padStart(5, '0')}`;
    const opts = { amount: 500 + ((i * 37) % 9000), customer: `cus_${tag}_${i % 97}` };
    const base = i % 4 === 3 ? voidLifecycle(id, start + i * 10, opts) : paidLifecycle(id, start + i * 10, opts);
    const lifecycle = withFields(base, { customer_email: `ap+${tag}.${i}@customer.test`, customer_name: `Customer ${i}` });
    list.push({ id, events: [...lifecycle, resentAs(lifecycle[1 + Math.floor(random() * 5)]!)] });
  }
  const distinct = list.flatMap((inv) => inv.events);
  const deliveries = [...distinct];
  while (deliveries.length < messages) deliveries.push(distinct[Math.floor(random() * distinct.length)]!);
  return { invoices: list, deliveries: shuffle(deliveries, random), distinctIds: distinct.map(eventId) };
}

/** The keys two rows disagree on, values compared strictly (a printed diff hides undefined and types). */
function differingKeys(a: object | null, b: object | null): string[] {
  if (a === null || b === null) return ['(row)'];
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])];
  return keys.filter((k) => !(k in x) || !(k in y) || !isDeepStrictEqual(x[k], y[k])).sort();
}

/** Invoices whose row differs from the chronological merge of their events (an empty list is the goal). */
export async function wrongRows(ds: DataSource, invoices: readonly LifecycleInvoice[]): Promise<unknown[]> {
  const now = Math.floor(Date.now() / 1000);
  const wrong: unknown[] = [];
  for (const inv of invoices) {
    const row = await findInvoice(ds.manager, inv.id);
    // Both cloned: the oracle hands back parts of events copied with structuredClone, which under
    // jest come from another realm, and a strict deep-equal tells realms apart by prototype.
    const [a, b] = [structuredClone(row), structuredClone(expectedFinalRow(inv.events, now))];
    if (!isDeepStrictEqual(a, b)) wrong.push({ invoice: inv.id, differs: differingKeys(a, b), row, reference: b });
  }
  return wrong;
}

export interface EventLogSummary {
  stored: number;
  processed: number;
  /** Processed after more than one receive: every receive counts, a copy's or a redelivery's as much as a failed one. */
  receivedMoreThanOnce: number;
  failing: Array<{ id: string; attempts: number; last_error: string | null }>;
}

export async function eventLogSummary(ds: DataSource, ids: readonly string[]): Promise<EventLogSummary> {
  const rows: Array<{ id: string; processed: boolean; attempts: number; last_error: string | null }> = await ds.query(
    `SELECT id, processed_at IS NOT NULL AS processed, attempts, last_error FROM stripe_events WHERE id = ANY($1::text[])`,
    [ids],
  );
  return {
    stored: rows.length,
    processed: rows.filter((r) => r.processed).length,
    receivedMoreThanOnce: rows.filter((r) => r.processed && r.attempts > 1).length,
    failing: rows.filter((r) => !r.processed).map(({ id, attempts, last_error }) => ({ id, attempts, last_error })),
  };
}

export async function processedTotal(ds: DataSource): Promise<number> {
  const [r] = await ds.query(`SELECT count(*)::int AS n FROM stripe_events WHERE processed_at IS NOT NULL`);
  return r.n as number;
}

/** Waits until every id is processed and the queue is empty; returns how long that took. */
export async function waitProcessed(ds: DataSource, ids: readonly string[], queueEmpty: () => Promise<boolean>, timeoutMs = 180_000): Promise<number> {
  const started = Date.now();
  await waitFor(`${ids.length} events processed`, async () => (await processedCount(ds, ids)) === ids.length, timeoutMs, 250);
  await waitFor('the queue to drain', queueEmpty, 120_000, 250);
  return Date.now() - started;
}
