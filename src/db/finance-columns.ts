/**
 * The columns each report reads from the finance views, and how each is typed. One list per report
 * drives the SELECT list, the JSON keys and the CSV header, so the three can never drift apart.
 */
export type ColumnKind = 'text' | 'cents' | 'amount' | 'integer' | 'time' | 'boolean' | 'json';

export type ColumnSpec = readonly [name: string, kind: ColumnKind];

/** A row as node-postgres returns it: bigint and numeric as strings, timestamptz as Date. */
export type DbRow = Record<string, unknown>;

export const INVOICE_COLUMNS: readonly ColumnSpec[] = [
  ['invoice_id', 'text'],
  ['customer_id', 'text'],
  ['customer_name', 'text'],
  ['customer_email', 'text'],
  ['number', 'text'],
  ['status', 'text'],
  ['display_status', 'text'],
  ['amount_due_cents', 'cents'],
  ['amount_paid_cents', 'cents'],
  ['amount_remaining_cents', 'cents'],
  ['amount_due', 'amount'],
  ['amount_paid', 'amount'],
  ['amount_remaining', 'amount'],
  ['currency', 'text'],
  ['due_date', 'time'],
  ['days_overdue', 'integer'],
  ['pay_url', 'text'],
  ['pdf_url', 'text'],
  ['created_at', 'time'],
  ['finalized_at', 'time'],
  ['paid_at', 'time'],
  ['livemode', 'boolean'],
  // Added after the first release: last, so a spreadsheet that reads columns by position still works.
  ['amount_written_off_cents', 'cents'],
  ['amount_written_off', 'amount'],
  ['voided_at', 'time'],
  ['marked_uncollectible_at', 'time'],
  ['recipient_email', 'text'],
  ['metadata', 'json'],
];

export const AGING_COLUMNS: readonly ColumnSpec[] = [
  ['as_of', 'time'],
  ['livemode', 'boolean'],
  ['currency', 'text'],
  ['bucket', 'text'],
  ['invoice_count', 'integer'],
  ['open_amount_cents', 'cents'],
  ['open_amount', 'amount'],
];
