import type { EntityManager } from 'typeorm';
import type { DbRow } from '../db/finance-columns';
import { financeCreditNotes, financeInvoices, financePayments, type InvoiceFilter, type MoneyFilter } from '../db/finance-views';

export interface FinanceList {
  rows: DbRow[];
  /** More rows matched than the limit let through. */
  truncated: boolean;
}

/** At most `filter.limit` rows of a finance listing, and whether more matched. */
async function limited<F extends { limit: number }>(fetch: (f: F) => Promise<DbRow[]>, filter: F): Promise<FinanceList> {
  // One row past the limit tells a truncated list from one that fits exactly.
  const rows = await fetch({ ...filter, limit: filter.limit + 1 });
  const truncated = rows.length > filter.limit;
  return { rows: truncated ? rows.slice(0, filter.limit) : rows, truncated };
}

/** Invoices from the finance views, newest first, or oldest due first when asking for the overdue. */
export function listInvoices(db: EntityManager, filter: InvoiceFilter): Promise<FinanceList> {
  return limited((f) => financeInvoices(db, f), filter);
}

/** Invoice payments (finance_payments), newest first. */
export function listPayments(db: EntityManager, filter: MoneyFilter): Promise<FinanceList> {
  return limited((f) => financePayments(db, f), filter);
}

/** Credit notes (finance_credit_notes), newest first. */
export function listCreditNotes(db: EntityManager, filter: MoneyFilter): Promise<FinanceList> {
  return limited((f) => financeCreditNotes(db, f), filter);
}
