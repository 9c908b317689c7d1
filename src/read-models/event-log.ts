import type { DataSource } from 'typeorm';
import { listEvents } from '../db/event-log';

export interface EventLogEntry {
  id: string;
  type: string;
  invoiceId: string | null;
  created: string;
  receivedAt: string;
  processedAt: string | null;
  attempts: number;
  lastError: string | null;
  /** When its message last went to the dead-letter queue; kept after a later success, as history. */
  deadLetteredAt: string | null;
}

/** The newest stored events, for "what happened to this invoice" and "what is failing". */
export async function recentEvents(ds: DataSource, f: { invoiceId?: string; failed?: boolean; limit: number }): Promise<EventLogEntry[]> {
  const rows = await listEvents(ds.manager, f);
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    invoiceId: r.stripe_invoice_id,
    created: r.created.toISOString(),
    receivedAt: r.received_at.toISOString(),
    processedAt: r.processed_at?.toISOString() ?? null,
    attempts: r.attempts,
    lastError: r.last_error,
    deadLetteredAt: r.dead_lettered_at?.toISOString() ?? null,
  }));
}

/**
 * Where an event stands, in words: "processed", "unprocessed (5 attempts), dead-lettered <when>".
 * A dead-lettering followed by a success reads as processed, with the dead-lettering as history.
 */
export function eventState(e: Pick<EventLogEntry, 'processedAt' | 'attempts' | 'deadLetteredAt'>): string {
  if (e.processedAt !== null) return e.deadLetteredAt === null ? 'processed' : `processed (was dead-lettered ${e.deadLetteredAt})`;
  const attempts = `unprocessed (${e.attempts} ${e.attempts === 1 ? 'attempt' : 'attempts'})`;
  return e.deadLetteredAt === null ? attempts : `${attempts}, dead-lettered ${e.deadLetteredAt}`;
}
