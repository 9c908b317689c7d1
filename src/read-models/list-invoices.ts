import type { EntityManager } from 'typeorm';
import { INVOICE_COLUMNS, selectList, type DbRow } from './columns';

export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'void' | 'uncollectible';

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

export interface InvoiceList {
  rows: DbRow[];
  /** More invoices matched than the limit let through. */
  truncated: boolean;
}

/** Invoices from the finance views, newest first, or oldest due first when asking for the overdue. */
export async function listInvoices(db: EntityManager, filter: InvoiceFilter): Promise<InvoiceList> {
  // finance_invoices leaves drafts out by definition; its superset holds them with the same columns.
  const source = filter.status === 'draft' ? 'finance_invoice_rows' : 'finance_invoices';
  const order = filter.overdue ? 'due_date, invoice_id' : 'created_at DESC NULLS LAST, invoice_id DESC';
  // One row past the limit tells a truncated list from one that fits exactly.
  const rows: DbRow[] = await db.query(
    `SELECT ${selectList(INVOICE_COLUMNS)}
       FROM ${source}
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::boolean IS NOT TRUE OR display_status = 'overdue')
        AND ($3::text IS NULL OR customer_id = $3)
        AND ($4::timestamptz IS NULL OR created_at >= $4)
        AND ($5::timestamptz IS NULL OR created_at < $5)
      ORDER BY ${order}
      LIMIT $6`,
    [filter.status ?? null, filter.overdue ?? false, filter.customerId ?? null, filter.since ?? null, filter.until ?? null, filter.limit + 1],
  );
  const truncated = rows.length > filter.limit;
  return { rows: truncated ? rows.slice(0, filter.limit) : rows, truncated };
}
