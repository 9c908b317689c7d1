import { recentNotices, retryNoticesOf, type ListedNotice } from '../db/notice-outbox';
import { formatMinorUnits } from '../read-models/amounts';
import { renderTable, type TableColumn } from '../read-models/table';
import { invoiceIdOption, limitOption } from './options';
import { print, UsageError } from './usage';
import { withDatabase } from './with-database';

/**
 * Puts notices back to pending, due now, with a fresh attempt budget: failed ones, and (unless
 * --failed) those skipped for want of a recipient, which a new billing contact can now reach.
 */
export async function retryNotices(opts: { failed?: boolean; invoice?: string; json?: boolean }): Promise<void> {
  const stripeInvoiceId = invoiceIdOption(opts.invoice) ?? null;
  const rows = await withDatabase((ds) => retryNoticesOf(ds.manager, { failedOnly: opts.failed ?? false, stripeInvoiceId }));
  const retried = rows.length;
  print({ retried, notices: rows }, opts.json ?? false, () =>
    retried === 0 ? 'no notices to retry' : `${retried} notice(s) back to pending:\n${rows.map((r) => `  ${r.stripe_invoice_id} ${r.kind}#${r.sequence}`).join('\n')}`,
  );
}

export async function listNotices(opts: { invoice?: string; status?: string; limit?: string; json?: boolean }): Promise<void> {
  const stripeInvoiceId = invoiceIdOption(opts.invoice) ?? null;
  if (opts.status !== undefined && !['pending', 'sent', 'failed', 'skipped'].includes(opts.status)) {
    throw new UsageError('--status: one of pending, sent, failed, skipped');
  }
  const limit = limitOption(opts.limit, 50, 10_000);
  const rows = await withDatabase((ds) => recentNotices(ds.manager, { stripeInvoiceId, status: opts.status ?? null, limit }));
  print(rows, opts.json ?? false, () => (rows.length === 0 ? 'no notices' : noticeTable(rows)));
}

/** To the second, in UTC, as every time the CLI prints. */
const moment = (v: Date | null): string => (v instanceof Date ? `${v.toISOString().slice(0, 19)}Z` : '-');

/** What a refund notice told was refunded: in major units with its currency, else (the currency unknown) in minor units. */
function refunded(r: ListedNotice): string {
  if (r.amount_cents === null) return '';
  return r.currency === null ? `${r.amount_cents} (minor units)` : formatMinorUnits(r.amount_cents, r.currency);
}

/**
 * SUBJECT and REFUNDED, what tells two refund emails of one invoice apart, are shown when a
 * listed notice has them: a list of notices about invoices alone keeps its width.
 */
function noticeTable(rows: readonly ListedNotice[]): string {
  const refunds = rows.some((r) => r.subject !== '' || r.amount_cents !== null);
  const columns: TableColumn[] = [
    { header: 'CREATED' },
    { header: 'INVOICE' },
    { header: 'NOTICE' },
    ...(refunds ? [{ header: 'SUBJECT' }, { header: 'REFUNDED', right: true }] : []),
    { header: 'STATUS' },
    { header: 'SENT' },
    { header: 'RECIPIENT' },
    { header: 'LAST ERROR' },
  ];
  return renderTable(
    columns,
    rows.map((r) => [
      moment(r.created_at),
      r.stripe_invoice_id,
      `${r.kind}#${r.sequence}`,
      ...(refunds ? [r.subject, refunded(r)] : []),
      r.status,
      moment(r.sent_at),
      r.recipient ?? '-',
      r.last_error ?? '',
    ]),
  );
}
