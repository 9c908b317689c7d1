import type { EntityManager } from 'typeorm';
import type { InvoiceSnapshot } from '../billing/snapshot';
import { statementFamily, valuesList, type SqlClient } from './sql-client';

export type Claim = 'new' | 'retry' | 'done';

/**
 * Records the event, or finds it already there. The row stays locked until the transaction ends,
 * so two consumers holding the same message (SQS delivers at least once) never both merge it.
 */
export async function claimEvent(db: EntityManager, snap: InvoiceSnapshot, payload: string): Promise<Claim> {
  const inserted: unknown[] = await db.query(
    `INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, api_version, payload)
     VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7::jsonb)
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [snap.eventId, snap.eventType, snap.stripeInvoiceId, snap.eventCreated, snap.livemode, snap.apiVersion, payload],
  );
  if (inserted.length === 1) return 'new';
  const rows: { processed: boolean }[] = await db.query(
    `SELECT processed_at IS NOT NULL AS processed FROM stripe_events WHERE id = $1 FOR UPDATE`,
    [snap.eventId],
  );
  return rows[0]?.processed ? 'done' : 'retry';
}

export async function markProcessed(db: EntityManager, eventId: string): Promise<void> {
  await db.query(
    `UPDATE stripe_events SET processed_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`,
    [eventId],
  );
}

export interface FailedEvent {
  id: string;
  type: string;
  stripeInvoiceId: string | null;
  created: number;
  livemode: boolean;
  apiVersion: string | null;
}

/**
 * Keeps the failure visible in the event log after the transaction rolled back, so engineers see
 * which events are stuck and why. Only for events we could identify; the error text is ours.
 */
export async function recordFailure(db: EntityManager, event: FailedEvent, payload: unknown, error: string): Promise<void> {
  await db.query(
    `INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, api_version, payload, attempts, last_error)
     VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7::jsonb, 1, $8)
     ON CONFLICT (id) DO UPDATE
       SET attempts = stripe_events.attempts + 1, last_error = EXCLUDED.last_error
       WHERE stripe_events.processed_at IS NULL`,
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
  (rows) => `INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, api_version, payload, processed_at, attempts)
     VALUES ${valuesList(rows, 7, (n, c) => (c === 3 ? `to_timestamp($${n})` : c === 6 ? `$${n}::jsonb, now(), 1` : `$${n}`))}
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
);

const LOCK_KNOWN = {
  name: 'lock_known_events',
  text: `SELECT id, processed_at IS NOT NULL AS processed FROM stripe_events WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
};

const MARK_MANY = {
  name: 'mark_events_processed',
  text: `UPDATE stripe_events SET processed_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::text[])`,
};

/**
 * claimEvent for the events of one transaction that merges every event it claims as new. A new
 * event's row is written already marked processed (attempts 1), as markProcessed would leave it
 * at commit: nobody sees the row before then, and a rollback removes it, so the outcome is the
 * same without a second version of a row that carries the whole payload. Rows are inserted in id
 * order, and those already there locked in id order, so two transactions claiming overlapping
 * sets wait for each other instead of deadlocking. Each event id must appear once; the events
 * claimed 'retry' or merged although 'done' (forced) still need markAllProcessed.
 */
export async function claimEventsProcessed(c: SqlClient, events: ReadonlyArray<{ snapshot: InvoiceSnapshot; payload: string }>): Promise<Map<string, Claim>> {
  const sorted = [...events].sort((a, b) => (a.snapshot.eventId < b.snapshot.eventId ? -1 : 1));
  const values = sorted.flatMap(({ snapshot: s, payload }) => [s.eventId, s.eventType, s.stripeInvoiceId, s.eventCreated, s.livemode, s.apiVersion, payload]);
  const inserted = await c.query<{ id: string }>({ ...CLAIM_MANY(sorted.length), values });
  const claims = new Map<string, Claim>(inserted.rows.map((r) => [r.id, 'new']));
  const known = sorted.map((e) => e.snapshot.eventId).filter((id) => !claims.has(id));
  if (known.length > 0) {
    const rows = await c.query<{ id: string; processed: boolean }>({ ...LOCK_KNOWN, values: [known] });
    for (const r of rows.rows) claims.set(r.id, r.processed ? 'done' : 'retry');
  }
  return claims;
}

export async function markAllProcessed(c: SqlClient, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length > 0) await c.query({ ...MARK_MANY, values: [eventIds] });
}
