import type { DataSource } from 'typeorm';
import { postWebhook } from '../support/processor';
import { event, invoice, sign, TEST_SECRET } from '../support/stripe-events';

export type StripeEvent = Record<string, unknown>;

/**
 * Seeded so that a failing permutation can be replayed: run again with TEST_SEED set to the value
 * the failure message prints.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const testSeed = (fallback: number) => Number(process.env['TEST_SEED'] ?? fallback);

export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Stripe's "same change, second event id": a new envelope around an identical snapshot. */
export function resentAs(original: StripeEvent): StripeEvent {
  const data = original['data'] as { object: Record<string, unknown> };
  return event(original['type'] as string, structuredClone(data.object), { created: original['created'] as number });
}

/**
 * A lifecycle ending void, shaped like paidLifecycle: the void and its update share the last
 * second with the failed-payment update, so only the status rank can order them.
 */
export function voidLifecycle(invoiceId: string, start: number, opts: { customer?: string; amount?: number } = {}): StripeEvent[] {
  const amount = opts.amount ?? 1000;
  const common = {
    id: invoiceId,
    customer: opts.customer ?? 'cus_test',
    amount_due: amount,
    total: amount,
    currency: 'usd',
    collection_method: 'charge_automatically',
    due_date: null,
    metadata: {},
  };
  const none = { finalized_at: null, paid_at: null, voided_at: null, marked_uncollectible_at: null };
  const finalized = { ...none, finalized_at: start + 1 };
  const draft = invoice({ ...common, status: 'draft', number: null, amount_paid: 0, amount_remaining: amount, attempt_count: 0, status_transitions: none });
  const open = invoice({ ...common, status: 'open', number: `INV-${invoiceId.slice(-6)}`, amount_paid: 0, amount_remaining: amount, attempt_count: 0, status_transitions: finalized });
  const failed = { ...open, attempt_count: 1 };
  const voided = { ...failed, status: 'void', amount_remaining: 0, status_transitions: { ...finalized, voided_at: start + 3 } };
  return [
    event('invoice.created', draft, { created: start }),
    event('invoice.finalized', open, { created: start + 1 }),
    event('invoice.payment_failed', failed, { created: start + 2 }),
    event('invoice.updated', failed, { created: start + 3 }),
    event('invoice.voided', voided, { created: start + 3 }),
    event('invoice.updated', voided, { created: start + 3 }),
  ];
}

export async function postSigned(baseUrl: string, e: StripeEvent | string) {
  const payload = typeof e === 'string' ? e : JSON.stringify(e);
  return postWebhook(baseUrl, payload, sign(payload, TEST_SECRET));
}

/** Runs `fn` over the items with at most `limit` at once, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return results;
}

export interface EventRow {
  id: string;
  processed: boolean;
  attempts: number;
  last_error: string | null;
}

export async function eventRows(ds: DataSource, ids: readonly string[]): Promise<EventRow[]> {
  return ds.query(
    `SELECT id, processed_at IS NOT NULL AS processed, attempts, last_error FROM stripe_events WHERE id = ANY($1::text[]) ORDER BY id`,
    [ids],
  );
}

export async function processedCount(ds: DataSource, ids: readonly string[]): Promise<number> {
  const [r] = await ds.query(`SELECT count(*)::int AS n FROM stripe_events WHERE id = ANY($1::text[]) AND processed_at IS NOT NULL`, [ids]);
  return r.n as number;
}

export const eventId = (e: StripeEvent) => e['id'] as string;
