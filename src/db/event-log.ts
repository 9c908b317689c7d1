import type { EntityManager } from 'typeorm';
import { statementFamily, valuesList, type SqlClient } from './sql-client';

export type Claim = 'new' | 'retry' | 'done';

/** What the event log records of an event besides its payload. */
export interface EventRecord {
  id: string;
  type: string;
  stripeInvoiceId: string | null;
  created: number;
  livemode: boolean;
  apiVersion: string | null;
}

/**
 * Keeps the failure visible in the event log after the transaction rolled back, so engineers see
 * which events are stuck and why; each failed receive counts. Only for events we could identify;
 * the error text is ours.
 */
export async function recordFailure(db: EntityManager, event: EventRecord, payload: unknown, error: string): Promise<void> {
  await db.query(
    `INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, api_version, payload, attempts, last_error)
     VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7::jsonb, 1, $8)
     ON CONFLICT (id) DO UPDATE
       SET attempts = stripe_events.attempts + 1,
           -- An event already applied keeps its clean record (a forced replay that failed changed nothing).
           last_error = CASE WHEN stripe_events.processed_at IS NULL THEN EXCLUDED.last_error ELSE stripe_events.last_error END`,
    [event.id, event.type, event.stripeInvoiceId, event.created, event.livemode, event.apiVersion, JSON.stringify(payload), error.slice(0, 2000)],
  );
}

/**
 * The event's message failed on its last receive and the queue moves it to the DLQ. Kept when the
 * event is processed later (after a replay): it is the record that this happened.
 */
export async function markDeadLettered(db: EntityManager, eventId: string): Promise<void> {
  await db.query(`UPDATE stripe_events SET dead_lettered_at = now() WHERE id = $1`, [eventId]);
}

export interface StoredEvent {
  id: string;
  type: string;
  stripe_invoice_id: string | null;
  created: Date;
  received_at: Date;
  processed_at: Date | null;
  attempts: number;
  last_error: string | null;
  dead_lettered_at: Date | null;
}

/** The newest stored events (without payloads), of one invoice or only the failing ones if asked. */
export async function listEvents(db: EntityManager, f: { invoiceId?: string; failed?: boolean; limit: number }): Promise<StoredEvent[]> {
  return db.query(
    `SELECT id, type, stripe_invoice_id, created, received_at, processed_at, attempts, last_error, dead_lettered_at
       FROM stripe_events
      WHERE ($1::text IS NULL OR stripe_invoice_id = $1)
        AND ($2::boolean IS NOT TRUE OR (last_error IS NOT NULL AND processed_at IS NULL))
      ORDER BY created DESC, received_at DESC, id DESC
      LIMIT $3`,
    [f.invoiceId ?? null, f.failed === true, f.limit],
  );
}

const CLAIM_MANY = statementFamily(
  'claim_events',
  (rows) => `INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, api_version, payload, attempts, processed_at)
     VALUES ${valuesList(rows, 8, (n, c) => (c === 3 ? `to_timestamp($${n})` : c === 6 ? `$${n}::jsonb` : c === 7 ? `$${n}::int, now()` : `$${n}`))}
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
);

// Every receive counts, a duplicate's too; the update also locks the row until commit.
const COUNT_KNOWN = {
  name: 'count_known_events',
  text: `UPDATE stripe_events AS e SET attempts = e.attempts + r.n
           FROM (SELECT s.id, r.n FROM stripe_events AS s JOIN unnest($1::text[], $2::int[]) AS r(id, n) ON r.id = s.id
                  ORDER BY s.id FOR UPDATE OF s) AS r
          WHERE e.id = r.id
      RETURNING e.id, e.processed_at IS NOT NULL AS processed`,
};

// An event that failed before takes the payload it is now applied with: what failed may have been
// the thin notice or the unreadable body, and the log keeps what was merged. Only such events send
// their payload again; a duplicate of an applied event (the common case) does not.
const RETAKE_PAYLOADS = {
  name: 'retake_event_payloads',
  text: `UPDATE stripe_events AS e SET payload = r.payload::jsonb
           FROM unnest($1::text[], $2::text[]) AS r(id, payload)
          WHERE e.id = r.id`,
};

const MARK_MANY = {
  name: 'mark_events_processed',
  text: `UPDATE stripe_events SET processed_at = now(), last_error = NULL WHERE id = ANY($1::text[])`,
};

/**
 * Records the events of one transaction that applies every event it claims as new, or finds them
 * already there; `receives` counts the copies of it this transaction took off the queue. A new
 * event's row is written already marked processed (attempts: those receives): nobody sees
 * the row before commit, and a rollback removes it, so the outcome is the same without a second
 * version of a row that carries the whole payload. A known event counts its receives and stays
 * locked until the transaction ends, so two consumers holding the same message (SQS delivers at
 * least once) never both apply it. Rows are inserted, and known rows locked, in id order, so two
 * transactions claiming overlapping sets wait for each other instead of deadlocking. Each event id
 * must appear once; the events claimed 'retry' or applied although 'done' (forced) still need
 * markAllProcessed.
 */
export async function claimEventsProcessed(c: SqlClient, events: ReadonlyArray<{ record: EventRecord; payload: string; receives: number }>): Promise<Map<string, Claim>> {
  const sorted = [...events].sort((a, b) => (a.record.id < b.record.id ? -1 : 1));
  const values = sorted.flatMap(({ record: r, payload, receives }) => [r.id, r.type, r.stripeInvoiceId, r.created, r.livemode, r.apiVersion, payload, receives]);
  const inserted = await c.query<{ id: string }>({ ...CLAIM_MANY(sorted.length), values });
  const claims = new Map<string, Claim>(inserted.rows.map((r) => [r.id, 'new']));
  const known = sorted.filter((e) => !claims.has(e.record.id));
  if (known.length > 0) {
    const rows = await c.query<{ id: string; processed: boolean }>({ ...COUNT_KNOWN, values: [known.map((e) => e.record.id), known.map((e) => e.receives)] });
    for (const r of rows.rows) claims.set(r.id, r.processed ? 'done' : 'retry');
    const retried = known.filter((e) => claims.get(e.record.id) === 'retry');
    if (retried.length > 0) await c.query({ ...RETAKE_PAYLOADS, values: [retried.map((e) => e.record.id), retried.map((e) => e.payload)] });
  }
  return claims;
}

/** The claimed events that were not new: processed now, their last error cleared. */
export async function markAllProcessed(c: SqlClient, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length > 0) await c.query({ ...MARK_MANY, values: [eventIds] });
}

/** How many events are stored, how many await processing, and how many of those failed last time. */
export async function eventCounts(db: EntityManager): Promise<{ total: number; unprocessed: number; failed: number }> {
  const rows: Array<{ total: number; unprocessed: number; failed: number }> = await db.query(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE processed_at IS NULL)::int AS unprocessed,
            count(*) FILTER (WHERE processed_at IS NULL AND last_error IS NOT NULL)::int AS failed
       FROM stripe_events`,
  );
  return rows[0]!;
}

/** The unprocessed event that came in first, if any. */
export async function oldestUnprocessedEvent(db: EntityManager): Promise<{ id: string; type: string; received_at: Date } | null> {
  const rows: Array<{ id: string; type: string; received_at: Date }> = await db.query(
    `SELECT id, type, received_at FROM stripe_events WHERE processed_at IS NULL ORDER BY received_at, id LIMIT 1`,
  );
  return rows[0] ?? null;
}

/** The ids among these that are stored (processed or not). */
export async function knownEventIds(db: Pick<EntityManager, 'query'>, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows: { id: string }[] = await db.query(`SELECT id FROM stripe_events WHERE id = ANY($1::text[])`, [ids]);
  return new Set(rows.map((r) => r.id));
}

/** Which stored events to replay; by default those not processed yet. */
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

/** A stored event with the payload as it was received, to send again. */
export interface ReplayableEvent {
  id: string;
  type: string;
  stripe_invoice_id: string | null;
  created: Date;
  processed_at: Date | null;
  last_error: string | null;
  payload: string;
}

/** The filter as SQL over stripe_events, its parameters numbered from $1 to $6. */
const MATCHING = `($1::text IS NULL OR stripe_invoice_id = $1)
          AND ($2::text IS NULL OR type = $2)
          AND ($3::timestamptz IS NULL OR created >= $3)
          AND ($4::timestamptz IS NULL OR created <= $4)
          AND CASE WHEN $5 THEN last_error IS NOT NULL AND processed_at IS NULL
                   WHEN $6 THEN true
                   ELSE processed_at IS NULL END`;

const matchingParams = (f: EventFilter) => [f.invoiceId ?? null, f.type ?? null, f.since ?? null, f.until ?? null, f.failed === true, f.force === true];

const MATCHING_PAGE = 500;

/**
 * The matching events, oldest first, a page at a time (keyset on created, id) so a replay of
 * months of events never holds them all.
 */
export async function* matchingEvents(db: EntityManager, f: EventFilter): AsyncGenerator<ReplayableEvent[]> {
  let after: { created: Date; id: string } | null = null;
  for (;;) {
    const rows: ReplayableEvent[] = await db.query(
      `SELECT id, type, stripe_invoice_id, created, processed_at, last_error, payload::text AS payload
         FROM stripe_events
        WHERE ${MATCHING}
          AND ($7::timestamptz IS NULL OR (created, id) > ($7, $8::text))
        ORDER BY created, id
        LIMIT $9`,
      [...matchingParams(f), after?.created ?? null, after?.id ?? null, MATCHING_PAGE],
    );
    if (rows.length === 0) return;
    yield rows;
    const last = rows[rows.length - 1]!;
    after = { created: last.created, id: last.id };
    if (rows.length < MATCHING_PAGE) return;
  }
}

export async function countMatchingEvents(db: EntityManager, f: EventFilter): Promise<number> {
  const rows: Array<{ n: number }> = await db.query(`SELECT count(*)::int AS n FROM stripe_events WHERE ${MATCHING}`, matchingParams(f));
  return rows[0]!.n;
}
