import type { EntityManager } from 'typeorm';
import { accountParams, accountWhere, type AccountScope } from './account-scope';
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
  /** The connected account the event is of (Connect); null or absent for the platform's own. */
  stripeAccountId?: string | null;
}

/**
 * Keeps the failure visible in the event log after the transaction rolled back, so engineers see
 * which events are stuck and why; each failed receive counts. Only for events we could identify;
 * the error text is ours.
 */
export async function recordFailure(db: EntityManager, event: EventRecord, payload: unknown, error: string): Promise<void> {
  await db.query(
    `INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, api_version, payload, attempts, last_error, stripe_account_id)
     VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7::jsonb, 1, $8, $9)
     ON CONFLICT (id) DO UPDATE
       SET attempts = stripe_events.attempts + 1,
           -- An event already applied keeps its clean record (a forced replay that failed changed nothing).
           last_error = CASE WHEN stripe_events.processed_at IS NULL THEN EXCLUDED.last_error ELSE stripe_events.last_error END,
           stripe_account_id = coalesce(stripe_events.stripe_account_id, EXCLUDED.stripe_account_id)`,
    [event.id, event.type, event.stripeInvoiceId, event.created, event.livemode, event.apiVersion, JSON.stringify(payload), error.slice(0, 2000), event.stripeAccountId ?? null],
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
  payload_pruned_at: Date | null;
  stripe_account_id: string | null;
}

/** The newest stored events (without payloads), of one invoice or only the failing ones if asked, of the accounts in scope. */
export async function listEvents(db: EntityManager, f: { invoiceId?: string; failed?: boolean; limit: number; account?: AccountScope }): Promise<StoredEvent[]> {
  return db.query(
    `SELECT id, type, stripe_invoice_id, created, received_at, processed_at, attempts, last_error, dead_lettered_at, payload_pruned_at, stripe_account_id
       FROM stripe_events
      WHERE ($1::text IS NULL OR stripe_invoice_id = $1)
        AND ($2::boolean IS NOT TRUE OR (last_error IS NOT NULL AND processed_at IS NULL))
        AND ${accountWhere('stripe_account_id', 4)}
      ORDER BY created DESC, received_at DESC, id DESC
      LIMIT $3`,
    [f.invoiceId ?? null, f.failed === true, f.limit, ...accountParams(f.account)],
  );
}

const CLAIM_MANY = statementFamily(
  'claim_events',
  (rows) => `INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, api_version, payload, attempts, stripe_account_id, processed_at)
     VALUES ${valuesList(rows, 9, (n, c) => (c === 3 ? `to_timestamp($${n})` : c === 6 ? `$${n}::jsonb` : c === 7 ? `$${n}::int` : c === 8 ? `$${n}::text, now()` : `$${n}`))}
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
// their payload again; a duplicate of an applied event (the common case) does not. Its account too,
// should the failure have been recorded without one.
const RETAKE_PAYLOADS = {
  name: 'retake_event_payloads',
  text: `UPDATE stripe_events AS e SET payload = r.payload::jsonb, stripe_account_id = coalesce(e.stripe_account_id, r.account)
           FROM unnest($1::text[], $2::text[], $3::text[]) AS r(id, payload, account)
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
  const values = sorted.flatMap(({ record: r, payload, receives }) => [r.id, r.type, r.stripeInvoiceId, r.created, r.livemode, r.apiVersion, payload, receives, r.stripeAccountId ?? null]);
  const inserted = await c.query<{ id: string }>({ ...CLAIM_MANY(sorted.length), values });
  const claims = new Map<string, Claim>(inserted.rows.map((r) => [r.id, 'new']));
  const known = sorted.filter((e) => !claims.has(e.record.id));
  if (known.length > 0) {
    const rows = await c.query<{ id: string; processed: boolean }>({ ...COUNT_KNOWN, values: [known.map((e) => e.record.id), known.map((e) => e.receives)] });
    for (const r of rows.rows) claims.set(r.id, r.processed ? 'done' : 'retry');
    const retried = known.filter((e) => claims.get(e.record.id) === 'retry');
    if (retried.length > 0) {
      await c.query({ ...RETAKE_PAYLOADS, values: [retried.map((e) => e.record.id), retried.map((e) => e.payload), retried.map((e) => e.record.stripeAccountId ?? null)] });
    }
  }
  return claims;
}

/** The claimed events that were not new: processed now, their last error cleared. */
export async function markAllProcessed(c: SqlClient, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length > 0) await c.query({ ...MARK_MANY, values: [eventIds] });
}

/**
 * How many events are stored, how many await processing, how many of those failed last time, and
 * how many are kept without their payload (pruned for retention).
 */
export async function eventCounts(db: EntityManager, account?: AccountScope): Promise<{ total: number; unprocessed: number; failed: number; payloadsPruned: number }> {
  const rows: Array<{ total: number; unprocessed: number; failed: number; payloadsPruned: number }> = await db.query(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE processed_at IS NULL)::int AS unprocessed,
            count(*) FILTER (WHERE processed_at IS NULL AND last_error IS NOT NULL)::int AS failed,
            count(*) FILTER (WHERE payload_pruned_at IS NOT NULL)::int AS "payloadsPruned"
       FROM stripe_events
      WHERE ${accountWhere('stripe_account_id', 1)}`,
    accountParams(account),
  );
  return rows[0]!;
}

/** The unprocessed event that came in first, if any (of the accounts in scope). */
export async function oldestUnprocessedEvent(db: EntityManager, account?: AccountScope): Promise<{ id: string; type: string; received_at: Date } | null> {
  const rows: Array<{ id: string; type: string; received_at: Date }> = await db.query(
    `SELECT id, type, received_at FROM stripe_events WHERE processed_at IS NULL AND ${accountWhere('stripe_account_id', 1)} ORDER BY received_at, id LIMIT 1`,
    accountParams(account),
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
  /** Only the events of these accounts (`--account`). */
  account?: AccountScope;
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
  stripe_account_id: string | null;
}

/** The filter as SQL over stripe_events, its parameters numbered from $1 to $8; pruned events included. */
const FILTERED = `($1::text IS NULL OR stripe_invoice_id = $1)
          AND ($2::text IS NULL OR type = $2)
          AND ($3::timestamptz IS NULL OR created >= $3)
          AND ($4::timestamptz IS NULL OR created <= $4)
          AND CASE WHEN $5 THEN last_error IS NOT NULL AND processed_at IS NULL
                   WHEN $6 THEN true
                   ELSE processed_at IS NULL END
          AND ${accountWhere('stripe_account_id', 7)}`;

/** The events of the filter that can be sent again: a pruned event has no payload left to send. */
const MATCHING = `${FILTERED} AND payload_pruned_at IS NULL`;

const matchingParams = (f: EventFilter) => [f.invoiceId ?? null, f.type ?? null, f.since ?? null, f.until ?? null, f.failed === true, f.force === true, ...accountParams(f.account)];

const MATCHING_PAGE = 500;

/**
 * The matching events, oldest first, a page at a time (keyset on created, id) so a replay of
 * months of events never holds them all.
 */
export async function* matchingEvents(db: EntityManager, f: EventFilter): AsyncGenerator<ReplayableEvent[]> {
  let after: { created: Date; id: string } | null = null;
  for (;;) {
    const rows: ReplayableEvent[] = await db.query(
      `SELECT id, type, stripe_invoice_id, created, processed_at, last_error, payload::text AS payload, stripe_account_id
         FROM stripe_events
        WHERE ${MATCHING}
          AND ($9::timestamptz IS NULL OR (created, id) > ($9, $10::text))
        ORDER BY created, id
        LIMIT $11`,
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

/**
 * The events the filter names that matchingEvents leaves out because their payload was pruned
 * (only a forced replay can name them: a pruned event is processed), with the oldest and newest
 * prune, so a replay can say what it could not send and why.
 */
export async function prunedMatchingEvents(db: EntityManager, f: EventFilter): Promise<{ count: number; firstPrunedAt: Date | null; lastPrunedAt: Date | null }> {
  const rows: Array<{ count: number; firstPrunedAt: Date | null; lastPrunedAt: Date | null }> = await db.query(
    `SELECT count(*)::int AS count, min(payload_pruned_at) AS "firstPrunedAt", max(payload_pruned_at) AS "lastPrunedAt"
       FROM stripe_events WHERE ${FILTERED} AND payload_pruned_at IS NOT NULL`,
    matchingParams(f),
  );
  return rows[0]!;
}

/** Events, and their payloads' bytes as stored (after compression), that a prune removed or would remove. */
export interface PayloadTally {
  events: number;
  bytes: number;
}

// What a prune may take: processed, clean, older than the cutoff, payload still there. The order
// follows the partial index stripe_events_prunable_idx, which a pruned row leaves.
const PRUNABLE = `processed_at < $1 AND payload_pruned_at IS NULL AND last_error IS NULL`;

/** What pruneEventPayloads would remove for this cutoff, changing nothing. */
export async function prunablePayloads(db: Pick<EntityManager, 'query'>, processedBefore: Date): Promise<PayloadTally> {
  const rows: Array<{ events: string; bytes: string }> = await db.query(
    `SELECT count(*) AS events, coalesce(sum(pg_column_size(payload)), 0) AS bytes FROM stripe_events WHERE ${PRUNABLE}`,
    [processedBefore],
  );
  return { events: Number(rows[0]!.events), bytes: Number(rows[0]!.bytes) };
}

/**
 * Removes the payloads of at most `limit` processed events older than the cutoff, oldest first,
 * in one statement and so one short transaction: the ids and times stay, so a late duplicate is
 * still a duplicate. Rows another transaction holds (a consumer counting a duplicate's receive)
 * are skipped, not waited for; the next batch or run takes them. Unprocessed and failing events
 * are never touched.
 */
export async function prunePayloadBatch(db: Pick<EntityManager, 'query'>, processedBefore: Date, limit: number): Promise<PayloadTally> {
  const rows: Array<{ events: string; bytes: string }> = await db.query(
    `WITH batch AS (
       SELECT id, pg_column_size(payload) AS bytes FROM stripe_events
        WHERE ${PRUNABLE}
        ORDER BY processed_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
     ), pruned AS (
       UPDATE stripe_events AS e SET payload = NULL, payload_pruned_at = now()
         FROM batch WHERE e.id = batch.id
       RETURNING batch.bytes
     )
     SELECT count(*) AS events, coalesce(sum(bytes), 0) AS bytes FROM pruned`,
    [processedBefore, limit],
  );
  return { events: Number(rows[0]!.events), bytes: Number(rows[0]!.bytes) };
}

/**
 * A Stripe health alert's row, written on its first receive and not processed until its repair
 * commits (the repair writes in transactions of its own); a later receive counts. 'done' once a
 * repair was recorded.
 */
export async function claimHealthAlert(db: EntityManager, event: EventRecord, payload: string): Promise<Claim> {
  const rows: Array<{ inserted: boolean; processed: boolean }> = await db.query(
    `INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, api_version, payload, attempts, stripe_account_id)
     VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7::jsonb, 1, $8)
     ON CONFLICT (id) DO UPDATE SET attempts = stripe_events.attempts + 1
     RETURNING (xmax = 0) AS inserted, processed_at IS NOT NULL AS processed`,
    [event.id, event.type, event.stripeInvoiceId, event.created, event.livemode, event.apiVersion, payload, event.stripeAccountId ?? null],
  );
  const row = rows[0]!;
  return row.inserted ? 'new' : row.processed ? 'done' : 'retry';
}

/** What became of a health alert: repaired (the invoice reached, what Stripe said, what was done), or why not yet. */
export type AlertSettlement = { error: string } | { invoice: string | null; alert: unknown; repair: unknown };

export async function settleHealthAlert(db: EntityManager, id: string, s: AlertSettlement): Promise<void> {
  if ('error' in s) {
    await db.query(`UPDATE stripe_events SET last_error = $2 WHERE id = $1 AND processed_at IS NULL`, [id, s.error.slice(0, 2000)]);
    return;
  }
  // The alert's details and the repair go into the payload, so `events` shows what was repaired.
  await db.query(
    `UPDATE stripe_events
        SET processed_at = now(), last_error = NULL, stripe_invoice_id = coalesce($2, stripe_invoice_id),
            payload = payload || jsonb_build_object('alert', $3::jsonb, 'repair', $4::jsonb)
      WHERE id = $1`,
    [id, s.invoice, JSON.stringify(s.alert ?? null), JSON.stringify(s.repair)],
  );
}

/** Health alerts not repaired yet, oldest first, with the connected account each names (thin events name it in `context`). */
export async function pendingHealthAlerts(db: EntityManager, type: string): Promise<Array<{ id: string; account: string | null; received_at: Date }>> {
  return db.query(
    `SELECT id, coalesce(stripe_account_id, payload->>'context') AS account, received_at FROM stripe_events
      WHERE type = $1 AND processed_at IS NULL ORDER BY received_at, id`,
    [type],
  );
}
