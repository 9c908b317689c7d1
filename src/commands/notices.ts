import { renderTable } from '../finance/table';
import { invoiceIdOption, limitOption } from './options';
import { print, UsageError } from './usage';
import { withDatabase } from './with-database';


/**
 * Puts notices back to pending, due now, with a fresh attempt budget: failed ones, and (unless
 * --failed) those skipped for want of a recipient, which a new billing contact can now reach.
 */
export async function retryNotices(opts: { failed?: boolean; invoice?: string; json?: boolean }): Promise<void> {
  invoiceIdOption(opts.invoice);
  const rows: { id: string; stripe_invoice_id: string; kind: string; sequence: number }[] = await withDatabase((ds) =>
    // Wrapped in a SELECT: TypeORM answers a bare UPDATE with [rows, rowCount], not the rows.
    ds.query(
      `WITH retried AS (
         UPDATE email_notices
            SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, updated_at = now()
          WHERE (status = 'failed' OR ($1::boolean IS NOT TRUE AND status = 'skipped' AND last_error = 'no_recipient'))
            AND ($2::text IS NULL OR stripe_invoice_id = $2)
          RETURNING id, stripe_invoice_id, kind, sequence
       )
       SELECT * FROM retried ORDER BY id`,
      [opts.failed ?? false, opts.invoice ?? null],
    ),
  );
  const retried = rows.length;
  print({ retried, notices: rows }, opts.json ?? false, () =>
    retried === 0 ? 'no notices to retry' : `${retried} notice(s) back to pending:\n${rows.map((r) => `  ${r.stripe_invoice_id} ${r.kind}#${r.sequence}`).join('\n')}`,
  );
}

export async function listNotices(opts: { invoice?: string; status?: string; limit?: string; json?: boolean }): Promise<void> {
  invoiceIdOption(opts.invoice);
  if (opts.status !== undefined && !['pending', 'sent', 'failed', 'skipped'].includes(opts.status)) {
    throw new UsageError('--status: one of pending, sent, failed, skipped');
  }
  const limit = limitOption(opts.limit, 50, 10_000);
  const rows: Record<string, unknown>[] = await withDatabase((ds) =>
    ds.query(
      `SELECT id, stripe_invoice_id, kind, sequence, status, recipient, attempts, last_error, created_at, sent_at
         FROM email_notices
        WHERE ($1::text IS NULL OR stripe_invoice_id = $1) AND ($2::text IS NULL OR status = $2)
        ORDER BY created_at DESC, id DESC
        LIMIT $3`,
      [opts.invoice ?? null, opts.status ?? null, limit],
    ),
  );
  print(rows, opts.json ?? false, () => (rows.length === 0 ? 'no notices' : noticeTable(rows)));
}

/** To the second, in UTC, as every time the CLI prints. */
const moment = (v: unknown): string => (v instanceof Date ? `${v.toISOString().slice(0, 19)}Z` : '-');

function noticeTable(rows: readonly Record<string, unknown>[]): string {
  return renderTable(
    [{ header: 'CREATED' }, { header: 'INVOICE' }, { header: 'NOTICE' }, { header: 'STATUS' }, { header: 'SENT' }, { header: 'RECIPIENT' }, { header: 'LAST ERROR' }],
    rows.map((r) => [
      moment(r['created_at']),
      String(r['stripe_invoice_id']),
      `${r['kind']}#${r['sequence']}`,
      String(r['status']),
      moment(r['sent_at']),
      String(r['recipient'] ?? '-'),
      String(r['last_error'] ?? ''),
    ]),
  );
}
