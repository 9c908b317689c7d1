import type { DataSource } from 'typeorm';

export interface EventLogEntry {
  id: string;
  type: string;
  invoiceId: string | null;
  created: string;
  receivedAt: string;
  processedAt: string | null;
  attempts: number;
  lastError: string | null;
}

/** The newest stored events, for "what happened to this invoice" and "what is failing". */
export async function recentEvents(ds: DataSource, f: { invoiceId?: string; failed?: boolean; limit: number }): Promise<EventLogEntry[]> {
  const rows: Array<{ id: string; type: string; stripe_invoice_id: string | null; created: Date; received_at: Date; processed_at: Date | null; attempts: number; last_error: string | null }> =
    await ds.query(
      `SELECT id, type, stripe_invoice_id, created, received_at, processed_at, attempts, last_error
         FROM stripe_events
        WHERE ($1::text IS NULL OR stripe_invoice_id = $1)
          AND ($2::boolean IS NOT TRUE OR (last_error IS NOT NULL AND processed_at IS NULL))
        ORDER BY created DESC, received_at DESC, id DESC
        LIMIT $3`,
      [f.invoiceId ?? null, f.failed === true, f.limit],
    );
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    invoiceId: r.stripe_invoice_id,
    created: r.created.toISOString(),
    receivedAt: r.received_at.toISOString(),
    processedAt: r.processed_at?.toISOString() ?? null,
    attempts: r.attempts,
    lastError: r.last_error,
  }));
}
