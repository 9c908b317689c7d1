import type { DataSource } from 'typeorm';
import type { AccountScope } from '../db/account-scope';
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
  /** When its payload was removed for retention (`billing events prune`); it can no longer be replayed. */
  payloadPrunedAt: string | null;
  /** The connected account the event is of (Stripe Connect); null for the platform's own. */
  account: string | null;
}

/** The newest stored events, for "what happened to this invoice" and "what is failing". */
export async function recentEvents(ds: DataSource, f: { invoiceId?: string; failed?: boolean; limit: number; account?: AccountScope }): Promise<EventLogEntry[]> {
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
    payloadPrunedAt: r.payload_pruned_at?.toISOString() ?? null,
    account: r.stripe_account_id,
  }));
}

/**
 * Where an event stands, in words: "processed", "unprocessed (5 attempts), dead-lettered <when>".
 * A dead-lettering followed by a success reads as processed, with the dead-lettering as history;
 * a pruned payload is said, since such an event cannot be replayed.
 */
export function eventState(e: Pick<EventLogEntry, 'processedAt' | 'attempts' | 'deadLetteredAt'> & Partial<Pick<EventLogEntry, 'payloadPrunedAt'>>): string {
  if (e.processedAt !== null) {
    const processed = e.deadLetteredAt === null ? 'processed' : `processed (was dead-lettered ${e.deadLetteredAt})`;
    return e.payloadPrunedAt ? `${processed}, payload pruned ${e.payloadPrunedAt}` : processed;
  }
  const attempts = `unprocessed (${e.attempts} ${e.attempts === 1 ? 'attempt' : 'attempts'})`;
  return e.deadLetteredAt === null ? attempts : `${attempts}, dead-lettered ${e.deadLetteredAt}`;
}
