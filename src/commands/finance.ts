import type { InvoiceStatus } from '../billing/invoice-state';
import { AGING_COLUMNS, CREDIT_NOTE_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS, type ColumnSpec, type DbRow } from '../db/finance-columns';
import { receivablesAging, type InvoiceFilter, type MoneyFilter } from '../db/finance-views';
import { toCsv } from '../read-models/csv';
import { listCreditNotes, listInvoices, listPayments, type FinanceList } from '../read-models/finance-lists';
import { agingTable, creditNoteTable, invoiceTable, paymentTable } from '../read-models/human';
import { toJsonRecord } from '../read-models/json-record';
import { accountScopeOption, choiceOption, customerIdOption, invoiceIdOption, limitOption, rangeOptions } from './options';
import { CREDIT_NOTE_STATUS_CHOICES, DEFAULT_INVOICE_LIMIT, INVOICE_STATUS_CHOICES, PAYMENT_STATUS_CHOICES } from './finance-choices';
import { UsageError } from './usage';
import { withDatabase } from './with-database';

const FORMATS = ['table', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];

interface InvoicesOptions {
  status?: string;
  overdue?: boolean;
  customer?: string;
  since?: string;
  until?: string;
  limit?: string;
  format?: string;
  account?: string;
}

/** Every argument is checked before the database is opened, so a typo costs nothing. */
export function invoiceFilter(opts: InvoicesOptions): InvoiceFilter {
  const status = opts.status === undefined ? undefined : choiceOption(opts.status, '--status', INVOICE_STATUS_CHOICES, 'open');
  const overdue = opts.overdue === true || status === 'overdue';
  if (overdue && status !== undefined && status !== 'overdue' && status !== 'open') {
    throw new UsageError(`--overdue: only open invoices are overdue, so it cannot be combined with --status ${status}`);
  }
  const customerId = customerIdOption(opts.customer);
  const account = accountScopeOption(opts.account);
  return {
    // Overdue is a state of open invoices, not one of Stripe's statuses.
    ...(status === undefined ? {} : { status: (status === 'overdue' ? 'open' : status) as InvoiceStatus }),
    overdue,
    ...(customerId === undefined ? {} : { customerId }),
    ...rangeOptions(opts.since, opts.until),
    limit: limitOption(opts.limit, DEFAULT_INVOICE_LIMIT),
    ...(account === undefined ? {} : { account }),
  };
}

function write(format: Format, rows: readonly DbRow[], columns: readonly ColumnSpec[], table: () => string): void {
  if (format === 'csv') process.stdout.write(toCsv(rows, columns));
  else if (format === 'json') process.stdout.write(`${JSON.stringify(rows.map((r) => toJsonRecord(r, columns)), null, 2)}\n`);
  else process.stdout.write(`${table()}\n`);
}

/** The list, and on stderr whether the limit cut it: an export piped to a file stays valid CSV or JSON and the person still sees it. */
function writeList(format: Format, list: FinanceList, columns: readonly ColumnSpec[], table: () => string, what: string, limit: number): void {
  write(format, list.rows, columns, table);
  if (list.truncated) process.stderr.write(`billing: more ${what} match; showing the first ${limit} (raise --limit)\n`);
}

export async function invoicesCommand(opts: InvoicesOptions): Promise<void> {
  const filter = invoiceFilter(opts);
  const format = choiceOption(opts.format, '--format', FORMATS, 'table');
  const list = await withDatabase((ds) => listInvoices(ds.manager, filter));
  writeList(format, list, INVOICE_COLUMNS, () => invoiceTable(list.rows), 'invoices', filter.limit);
}

interface MoneyOptions {
  invoice?: string;
  customer?: string;
  status?: string;
  since?: string;
  until?: string;
  limit?: string;
  format?: string;
}

/** As invoiceFilter: every argument is checked before the database is opened. */
function moneyFilter(opts: MoneyOptions, statuses: readonly string[]): MoneyFilter {
  const invoiceId = invoiceIdOption(opts.invoice);
  const customerId = customerIdOption(opts.customer);
  const status = opts.status === undefined ? undefined : choiceOption(opts.status, '--status', statuses, statuses[0]!);
  return {
    ...(invoiceId === undefined ? {} : { invoiceId }),
    ...(customerId === undefined ? {} : { customerId }),
    ...(status === undefined ? {} : { status }),
    ...rangeOptions(opts.since, opts.until),
    limit: limitOption(opts.limit, DEFAULT_INVOICE_LIMIT),
  };
}

export async function paymentsCommand(opts: MoneyOptions): Promise<void> {
  const filter = moneyFilter(opts, PAYMENT_STATUS_CHOICES);
  const format = choiceOption(opts.format, '--format', FORMATS, 'table');
  const list = await withDatabase((ds) => listPayments(ds.manager, filter));
  writeList(format, list, PAYMENT_COLUMNS, () => paymentTable(list.rows), 'payments', filter.limit);
}

export async function creditNotesCommand(opts: MoneyOptions): Promise<void> {
  const filter = moneyFilter(opts, CREDIT_NOTE_STATUS_CHOICES);
  const format = choiceOption(opts.format, '--format', FORMATS, 'table');
  const list = await withDatabase((ds) => listCreditNotes(ds.manager, filter));
  writeList(format, list, CREDIT_NOTE_COLUMNS, () => creditNoteTable(list.rows), 'credit notes', filter.limit);
}

export async function agingCommand(opts: { format?: string; account?: string }): Promise<void> {
  const format = choiceOption(opts.format, '--format', FORMATS, 'table');
  const account = accountScopeOption(opts.account);
  const rows = await withDatabase((ds) => receivablesAging(ds.manager, account));
  write(format, rows, AGING_COLUMNS, () => agingTable(rows));
}
