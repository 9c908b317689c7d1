import type { EntityManager } from 'typeorm';
import type { InvoiceStatus } from '../billing/invoice-state';
import { AGING_COLUMNS, INVOICE_COLUMNS, type ColumnSpec, type DbRow } from './finance-columns';

const selectList = (columns: readonly ColumnSpec[]): string => columns.map(([name]) => name).join(', ');

export interface InvoiceFilter {
  /** Stripe's status; `open` includes the overdue ones. */
  status?: InvoiceStatus;
  /** Only open invoices past due with money owed; listed oldest due first. */
  overdue?: boolean;
  customerId?: string;
  /** Created at Stripe at or after this moment. */
  since?: Date;
  /** Created at Stripe before this moment. */
  until?: Date;
  limit: number;
}

/**
 * Invoices from the finance views with INVOICE_COLUMNS, newest first, or oldest due first when
 * asking for the overdue; at most `limit` rows.
 */
export async function financeInvoices(db: EntityManager, filter: InvoiceFilter): Promise<DbRow[]> {
  // finance_invoices leaves drafts out by definition; its superset holds them with the same columns.
  const source = filter.status === 'draft' ? 'finance_invoice_rows' : 'finance_invoices';
  const order = filter.overdue ? 'due_date, invoice_id' : 'created_at DESC NULLS LAST, invoice_id DESC';
  return db.query(
    `SELECT ${selectList(INVOICE_COLUMNS)}
       FROM ${source}
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::boolean IS NOT TRUE OR display_status = 'overdue')
        AND ($3::text IS NULL OR customer_id = $3)
        AND ($4::timestamptz IS NULL OR created_at >= $4)
        AND ($5::timestamptz IS NULL OR created_at < $5)
      ORDER BY ${order}
      LIMIT $6`,
    [filter.status ?? null, filter.overdue ?? false, filter.customerId ?? null, filter.since ?? null, filter.until ?? null, filter.limit],
  );
}

/**
 * receivables_aging as of the query's now(), live mode first, then by currency and bucket age.
 * Every currency with money owed has all five buckets, zeros included. Each row also carries its
 * currency's totals (currency_total, currency_invoice_count) for the table; the CSV and JSON
 * columns are AGING_COLUMNS, one row per bucket, which a spreadsheet sums itself.
 */
export async function receivablesAging(db: EntityManager): Promise<DbRow[]> {
  return db.query(
    `SELECT ${selectList(AGING_COLUMNS)},
            finance_major_units((sum(open_amount_cents) OVER per_currency)::bigint, currency) AS currency_total,
            sum(invoice_count) OVER per_currency AS currency_invoice_count
       FROM (SELECT now() AS as_of, * FROM receivables_aging) a
     WINDOW per_currency AS (PARTITION BY livemode, currency)
      ORDER BY livemode DESC, currency, bucket_order`,
  );
}

/** Sums as text: a sum of bigint is numeric, which may not fit a JSON number exactly. */
export interface InvoiceTotals {
  status: string;
  currency: string;
  count: number;
  remaining: string;
  written_off: string;
}

/** Every invoice, drafts included, by Stripe status and currency, with what is owed and what was written off. */
export async function invoiceTotals(db: EntityManager): Promise<InvoiceTotals[]> {
  return db.query(
    `SELECT status, currency, count(*)::int AS count,
            sum(amount_remaining_cents)::text AS remaining, sum(amount_written_off_cents)::text AS written_off
       FROM finance_invoice_rows
      GROUP BY status, currency ORDER BY status, currency`,
  );
}

/** The overdue invoices by currency, with what is owed (a sum as text, as in InvoiceTotals). */
export async function overdueTotals(db: EntityManager): Promise<Array<{ currency: string; count: number; remaining: string }>> {
  return db.query(
    `SELECT currency, count(*)::int AS count, sum(amount_remaining_cents)::text AS remaining
       FROM overdue_invoices
      GROUP BY currency ORDER BY currency`,
  );
}
