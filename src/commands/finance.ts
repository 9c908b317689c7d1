import type { Command } from 'commander';
import { AGING_COLUMNS, INVOICE_COLUMNS, toJsonRecord, type ColumnSpec, type DbRow } from '../finance/columns';
import { toCsv } from '../finance/csv';
import { agingTable, invoiceTable } from '../finance/human';
import { listInvoices, type InvoiceFilter, type InvoiceStatus } from '../finance/list-invoices';
import { receivablesAging } from '../finance/receivables-aging';
import { choiceOption, customerIdOption, limitOption, rangeOptions } from './options';
import { UsageError, withDatabase } from './with-database';

const FORMATS = ['table', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];
const STATUSES = ['draft', 'open', 'paid', 'void', 'uncollectible', 'overdue'] as const;
const DEFAULT_LIMIT = 1000;

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
  const status = opts.status === undefined ? undefined : choiceOption(opts.status, '--status', STATUSES, 'open');
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
    limit: limitOption(opts.limit, DEFAULT_LIMIT),
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

export function registerFinanceCommands(program: Command): void {
  program
    .command('invoices')
    .description('invoices as finance sees them (the finance_invoices view): newest first, overdue ones oldest due first')
    .option('--status <status>', `${STATUSES.join(', ')} (overdue: open, past due, money owed; open includes overdue)`)
    .option('--overdue', 'only overdue invoices, oldest due first (same as --status overdue)')
    .option('--customer <id>', 'only this customer, cus_…')
    .option('--since <iso>', 'created at Stripe at or after this moment: 2026-11-01 or 2026-11-01T09:30:00Z')
    .option('--until <iso>', 'created at Stripe before this moment')
    .option('--limit <n>', `at most this many (default ${DEFAULT_LIMIT}; a note on stderr says when more match)`)
    .option('--format <format>', 'table (default), csv (for spreadsheets) or json')
    .action((opts: InvoicesOptions) => invoicesCommand(opts));

  program
    .command('aging')
    .description('open receivables by currency and days past due: current, 1-30, 31-60, 61-90, 90+ (the receivables_aging view)')
    .option('--format <format>', 'table (default), csv (one row per currency and bucket) or json')
    .action((opts: { format?: string }) => agingCommand(opts));
}
