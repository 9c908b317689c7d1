import type { DataSource } from 'typeorm';
import { REPLAY_ATTRIBUTE } from '../consume/replay-attribute';
import type { EventQueue } from '../queue/event-queue';

export interface EventFilter {
  invoiceId?: string;
  type?: string;
  since?: Date;
  until?: Date;
  /** Only events whose last attempt failed. */
  failed?: boolean;
  /** Also events already processed: the consumer merges them again. */
  force?: boolean;
}

export interface ReplayCandidate {
  id: string;
  type: string;
  invoiceId: string | null;
  created: string;
  processedAt: string | null;
  lastError: string | null;
}

interface Row {
  id: string;
  type: string;
  stripe_invoice_id: string | null;
  created: Date;
  processed_at: Date | null;
  last_error: string | null;
  payload: string;
}

const PAGE = 500;

/**
 * The matching events, oldest first, a page at a time (keyset on created, id) so a replay of
 * months of events never holds them all. The default selection is what did not succeed.
 */
/** The filter as SQL over stripe_events, its parameters numbered from $1 to $6. */
const MATCHING = `($1::text IS NULL OR stripe_invoice_id = $1)
          AND ($2::text IS NULL OR type = $2)
          AND ($3::timestamptz IS NULL OR created >= $3)
          AND ($4::timestamptz IS NULL OR created <= $4)
          AND CASE WHEN $5 THEN last_error IS NOT NULL AND processed_at IS NULL
                   WHEN $6 THEN true
                   ELSE processed_at IS NULL END`;

const matchingParams = (f: EventFilter) => [f.invoiceId ?? null, f.type ?? null, f.since ?? null, f.until ?? null, f.failed === true, f.force === true];

/**
 * The matching events, oldest first, a page at a time (keyset on created, id) so a replay of
 * months of events never holds them all. The default selection is what did not succeed.
 */
export async function* matchingEvents(ds: DataSource, f: EventFilter): AsyncGenerator<Row[]> {
  let after: { created: Date; id: string } | null = null;
  for (;;) {
    const rows: Row[] = await ds.query(
      `SELECT id, type, stripe_invoice_id, created, processed_at, last_error, payload::text AS payload
         FROM stripe_events
        WHERE ${MATCHING}
          AND ($7::timestamptz IS NULL OR (created, id) > ($7, $8::text))
        ORDER BY created, id
        LIMIT $9`,
      [...matchingParams(f), after?.created ?? null, after?.id ?? null, PAGE],
    );
    if (rows.length === 0) return;
    yield rows;
    const last = rows[rows.length - 1]!;
    after = { created: last.created, id: last.id };
    if (rows.length < PAGE) return;
  }
}

export async function countMatching(ds: DataSource, f: EventFilter): Promise<number> {
  const rows: Array<{ n: number }> = await ds.query(`SELECT count(*)::int AS n FROM stripe_events WHERE ${MATCHING}`, matchingParams(f));
  return rows[0]!.n;
}

export interface ReplayResult {
  enqueued: number;
  failed: number;
  dryRun: boolean;
  events: ReplayCandidate[];
  errors: Array<{ id: string; error: string }>;
}

const candidate = (r: Row): ReplayCandidate => ({
  id: r.id,
  type: r.type,
  invoiceId: r.stripe_invoice_id,
  created: r.created.toISOString(),
  processedAt: r.processed_at?.toISOString() ?? null,
  lastError: r.last_error,
});

/** Sends in flight at once: enough to fill SendMessageBatch calls, few enough to stay polite. */
const SENDS_IN_FLIGHT = 16;

/**
 * Puts stored events back on the queue as the webhook would have. With force, the message says
 * so and the consumer merges an already processed event again; the merge is a join and the
 * outbox keys are unique, so the state converges and no notice goes out twice.
 */
export async function replayEvents(
  ds: DataSource,
  /** Unused, and may be absent, on a dry run. */
  queue: EventQueue | undefined,
  f: EventFilter,
  o: { dryRun?: boolean; onProgress?: (done: number) => void } = {},
): Promise<ReplayResult> {
  if (!o.dryRun && !queue) throw new TypeError('replayEvents: a queue is needed unless dryRun');
  const result: ReplayResult = { enqueued: 0, failed: 0, dryRun: o.dryRun === true, events: [], errors: [] };
  const attributes: Record<string, string> = f.force ? { [REPLAY_ATTRIBUTE]: 'force' } : {};
  for await (const page of matchingEvents(ds, f)) {
    if (o.dryRun) {
      result.events.push(...page.map(candidate));
      continue;
    }
    for (let i = 0; i < page.length; i += SENDS_IN_FLIGHT) {
      await Promise.all(
        page.slice(i, i + SENDS_IN_FLIGHT).map(async (r) => {
          try {
            await queue!.send(r.payload, JSON.parse(r.payload) as Record<string, unknown>, attributes);
            result.enqueued++;
            result.events.push(candidate(r));
          } catch (err) {
            result.failed++;
            result.errors.push({ id: r.id, error: (err as Error).message });
          }
        }),
      );
      o.onProgress?.(result.enqueued + result.failed);
    }
  }
  return result;
}
