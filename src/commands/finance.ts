import type { InvoiceStatus } from '../billing/invoice-state';
import { AGING_COLUMNS, INVOICE_COLUMNS, type ColumnSpec, type DbRow } from '../db/finance-columns';
import { receivablesAging, type InvoiceFilter } from '../db/finance-views';
import { toCsv } from '../read-models/csv';
import { agingTable, invoiceTable } from '../read-models/human';
import { toJsonRecord } from '../read-models/json-record';
import { listInvoices } from '../read-models/list-invoices';
import { choiceOption, customerIdOption, limitOption, rangeOptions } from './options';
import { DEFAULT_INVOICE_LIMIT, INVOICE_STATUS_CHOICES } from './finance-choices';
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
}

/** Every argument is checked before the database is opened, so a typo costs nothing. */
export function invoiceFilter(opts: InvoicesOptions): InvoiceFilter {
  const status = opts.status === undefined ? undefined : choiceOption(opts.status, '--status', INVOICE_STATUS_CHOICES, 'open');
  const overdue = opts.overdue === true || status === 'overdue';
  if (overdue && status !== undefined && status !== 'overdue' && status !== 'open') {
    throw new UsageError(`--overdue: only open invoices are overdue, so it cannot be combined with --status ${status}`);
  }
  const customerId = customerIdOption(opts.customer);
  return {
    // Overdue is a state of open invoices, not one of Stripe's statuses.
    ...(status === undefined ? {} : { status: (status === 'overdue' ? 'open' : status) as InvoiceStatus }),
    overdue,
    ...(customerId === undefined ? {} : { customerId }),
    ...rangeOptions(opts.since, opts.until),
    limit: limitOption(opts.limit, DEFAULT_INVOICE_LIMIT),
  };
}

function write(format: Format, rows: readonly DbRow[], columns: readonly ColumnSpec[], table: () => string): void {
  if (format === 'csv') process.stdout.write(toCsv(rows, columns));
  else if (format === 'json') process.stdout.write(`${JSON.stringify(rows.map((r) => toJsonRecord(r, columns)), null, 2)}\n`);
  else process.stdout.write(`${table()}\n`);
}

export async function invoicesCommand(opts: InvoicesOptions): Promise<void> {
  const filter = invoiceFilter(opts);
  const format = choiceOption(opts.format, '--format', FORMATS, 'table');
  const { rows, truncated } = await withDatabase((ds) => listInvoices(ds.manager, filter));
  write(format, rows, INVOICE_COLUMNS, () => invoiceTable(rows));
  // On stderr, so an export piped to a file stays valid CSV or JSON and the person still sees it.
  if (truncated) process.stderr.write(`billing: more invoices match; showing the first ${filter.limit} (raise --limit)\n`);
}

export async function agingCommand(opts: { format?: string }): Promise<void> {
  const format = choiceOption(opts.format, '--format', FORMATS, 'table');
  const rows = await withDatabase((ds) => receivablesAging(ds.manager));
  write(format, rows, AGING_COLUMNS, () => agingTable(rows));
}
