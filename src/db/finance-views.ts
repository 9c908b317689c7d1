import type { EntityManager } from 'typeorm';
import type { InvoiceStatus } from '../billing/invoice-state';
import { accountParams, accountWhere, type AccountScope } from './account-scope';
import { AGING_COLUMNS, CREDIT_NOTE_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS, type ColumnSpec, type DbRow } from './finance-columns';

const selectList = (columns: readonly ColumnSpec[]): string => columns.map(([name]) => name).join(', ');

/**
 * One page of a finance view, newest first or as `order` says. The page's keys are chosen first,
 * by a query that reads only plain columns (the planner drops the views' lookups of charges,
 * refunds and credit notes from it), and those lookups then run for the page's rows only: without
 * this, a LIMIT after an ORDER BY still looked up every row's money before sorting.
 * `where` and `order` are our own text; every value in them is a parameter.
 */
function pageSql(view: string, key: string, columns: readonly ColumnSpec[], where: string, order: string, limitParam: string): string {
  return `SELECT ${selectList(columns)}
            FROM ${view}
           WHERE ${key} IN (SELECT ${key} FROM ${view} WHERE ${where} ORDER BY ${order} LIMIT ${limitParam})
           ORDER BY ${order}`;
}

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
  /** A connected account's invoices, or the platform's own (null); every owner's when absent. */
  account?: AccountScope;
}

/** A statement and its values, as the listings send them (exported so tests can EXPLAIN them). */
export interface FinanceQuery {
  text: string;
  values: unknown[];
}

export function financeInvoicesQuery(filter: InvoiceFilter): FinanceQuery {
  // finance_invoices leaves drafts out by definition; its superset holds them with the same columns.
  const source = filter.status === 'draft' ? 'finance_invoice_rows' : 'finance_invoices';
  const order = filter.overdue ? 'due_date, invoice_id' : 'created_at DESC NULLS LAST, invoice_id DESC';
  const where = `($1::text IS NULL OR status = $1)
        AND ($2::boolean IS NOT TRUE OR display_status = 'overdue')
        AND ($3::text IS NULL OR customer_id = $3)
        AND ($4::timestamptz IS NULL OR created_at >= $4)
        AND ($5::timestamptz IS NULL OR created_at < $5)
        AND ${accountWhere('stripe_account_id', 7)}`;
  return {
    text: pageSql(source, 'invoice_id', INVOICE_COLUMNS, where, order, '$6'),
    values: [filter.status ?? null, filter.overdue ?? false, filter.customerId ?? null, filter.since ?? null, filter.until ?? null, filter.limit, ...accountParams(filter.account)],
  };
}

/**
 * Invoices from the finance views with INVOICE_COLUMNS, newest first, or oldest due first when
 * asking for the overdue; at most `limit` rows.
 */
export async function financeInvoices(db: EntityManager, filter: InvoiceFilter): Promise<DbRow[]> {
  const q = financeInvoicesQuery(filter);
  return db.query(q.text, q.values);
}

/** What `billing payments` and `billing credit-notes` filter on; every field optional but the limit. */
export interface MoneyFilter {
  invoiceId?: string;
  /** The invoice's customer, else (for a payment whose invoice is not stored yet) the charge's. */
  customerId?: string;
  /** Stripe's status: open, paid or canceled for a payment; issued or void for a credit note. */
  status?: string;
  /** Created at Stripe at or after this moment. */
  since?: Date;
  /** Created at Stripe before this moment. */
  until?: Date;
  limit: number;
}

const MONEY_WHERE = `($1::text IS NULL OR invoice_id = $1)
        AND ($2::text IS NULL OR customer_id = $2)
        AND ($3::text IS NULL OR status = $3)
        AND ($4::timestamptz IS NULL OR created_at >= $4)
        AND ($5::timestamptz IS NULL OR created_at < $5)`;

const moneyParams = (f: MoneyFilter): unknown[] => [f.invoiceId ?? null, f.customerId ?? null, f.status ?? null, f.since ?? null, f.until ?? null, f.limit];

export function financePaymentsQuery(filter: MoneyFilter): FinanceQuery {
  return { text: pageSql('finance_payments', 'invoice_payment_id', PAYMENT_COLUMNS, MONEY_WHERE, 'created_at DESC, invoice_payment_id DESC', '$6'), values: moneyParams(filter) };
}

/** Invoice payments from finance_payments with PAYMENT_COLUMNS, newest first; at most `limit` rows. */
export async function financePayments(db: EntityManager, filter: MoneyFilter): Promise<DbRow[]> {
  const q = financePaymentsQuery(filter);
  return db.query(q.text, q.values);
}

function financeCreditNotesQuery(filter: MoneyFilter): FinanceQuery {
  return { text: pageSql('finance_credit_notes', 'credit_note_id', CREDIT_NOTE_COLUMNS, MONEY_WHERE, 'created_at DESC, credit_note_id DESC', '$6'), values: moneyParams(filter) };
}

/** Credit notes from finance_credit_notes with CREDIT_NOTE_COLUMNS, newest first; at most `limit` rows. */
export async function financeCreditNotes(db: EntityManager, filter: MoneyFilter): Promise<DbRow[]> {
  const q = financeCreditNotesQuery(filter);
  return db.query(q.text, q.values);
}

/**
 * receivables_aging as of the query's now(), live mode first, then by currency and bucket age.
 * Every currency with money owed has all five buckets, zeros included. Each row also carries its
 * currency's totals (currency_total, currency_invoice_count) for the table; the CSV and JSON
 * columns are AGING_COLUMNS, one row per bucket, which a spreadsheet sums itself. With an account
 * scope, the same of one connected account's invoices, or the platform's own (null), from
 * receivables_aging_by_account.
 */
export async function receivablesAging(db: EntityManager, account?: AccountScope): Promise<DbRow[]> {
  const source = account === undefined ? 'receivables_aging' : `receivables_aging_by_account WHERE ${accountWhere('stripe_account_id', 1)}`;
  return db.query(
    `SELECT ${selectList(AGING_COLUMNS)},
            finance_major_units((sum(open_amount_cents) OVER per_currency)::bigint, currency) AS currency_total,
            sum(invoice_count) OVER per_currency AS currency_invoice_count
       FROM (SELECT now() AS as_of, * FROM ${source}) a
     WINDOW per_currency AS (PARTITION BY livemode, currency)
      ORDER BY livemode DESC, currency, bucket_order`,
    account === undefined ? [] : accountParams(account),
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

/** Every invoice, drafts included, by Stripe status and currency, with what is owed and what was written off; of the accounts in scope. */
export async function invoiceTotals(db: EntityManager, account?: AccountScope): Promise<InvoiceTotals[]> {
  return db.query(
    `SELECT status, currency, count(*)::int AS count,
            sum(amount_remaining_cents)::text AS remaining, sum(amount_written_off_cents)::text AS written_off
       FROM finance_invoice_rows
      WHERE ${accountWhere('stripe_account_id', 1)}
      GROUP BY status, currency ORDER BY status, currency`,
    accountParams(account),
  );
}

/** The overdue invoices by currency, with what is owed (a sum as text, as in InvoiceTotals); of the accounts in scope. */
export async function overdueTotals(db: EntityManager, account?: AccountScope): Promise<Array<{ currency: string; count: number; remaining: string }>> {
  return db.query(
    `SELECT currency, count(*)::int AS count, sum(amount_remaining_cents)::text AS remaining
       FROM overdue_invoices
      WHERE ${accountWhere('stripe_account_id', 1)}
      GROUP BY currency ORDER BY currency`,
    accountParams(account),
  );
}
