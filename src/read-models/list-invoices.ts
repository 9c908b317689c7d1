import type { EntityManager } from 'typeorm';
import type { DbRow } from '../db/finance-columns';
import { financeInvoices, type InvoiceFilter } from '../db/finance-views';

export interface InvoiceList {
  rows: DbRow[];
  /** More invoices matched than the limit let through. */
  truncated: boolean;
}

/** Invoices from the finance views, newest first, or oldest due first when asking for the overdue. */
export async function listInvoices(db: EntityManager, filter: InvoiceFilter): Promise<InvoiceList> {
  // One row past the limit tells a truncated list from one that fits exactly.
  const rows = await financeInvoices(db, { ...filter, limit: filter.limit + 1 });
  const truncated = rows.length > filter.limit;
  return { rows: truncated ? rows.slice(0, filter.limit) : rows, truncated };
}
