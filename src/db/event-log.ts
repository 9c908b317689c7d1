import type { EntityManager } from 'typeorm';
import type { InvoiceSnapshot } from '../billing/snapshot';

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
