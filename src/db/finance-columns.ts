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
  // The money behind the invoice: refunds of its charges, its credit notes, the receipt.
  ['amount_refunded_cents', 'cents'],
  ['amount_refunded', 'amount'],
  ['amount_credited_cents', 'cents'],
  ['amount_credited', 'amount'],
  ['net_collected_cents', 'cents'],
  ['net_collected', 'amount'],
  ['receipt_url', 'text'],
  // Stripe Connect: the connected account the invoice belongs to; null for the platform's own.
  ['stripe_account_id', 'text'],
];

/** finance_payments, one row per invoice payment. */
export const PAYMENT_COLUMNS: readonly ColumnSpec[] = [
  ['invoice_payment_id', 'text'],
  ['invoice_id', 'text'],
  ['invoice_number', 'text'],
  ['customer_id', 'text'],
  ['customer_name', 'text'],
  ['status', 'text'],
  ['is_default', 'boolean'],
  ['amount_requested_cents', 'cents'],
  ['amount_paid_cents', 'cents'],
  ['amount_refunded_cents', 'cents'],
  ['amount_requested', 'amount'],
  ['amount_paid', 'amount'],
  ['amount_refunded', 'amount'],
  ['currency', 'text'],
  ['payment_intent_id', 'text'],
  ['charge_id', 'text'],
  ['charge_status', 'text'],
  ['payment_method_type', 'text'],
  ['failure_code', 'text'],
  ['receipt_url', 'text'],
  ['refund_count', 'integer'],
  ['created_at', 'time'],
  ['paid_at', 'time'],
  ['canceled_at', 'time'],
  ['livemode', 'boolean'],
  ['stripe_account_id', 'text'],
];

/** finance_credit_notes, one row per credit note. */
export const CREDIT_NOTE_COLUMNS: readonly ColumnSpec[] = [
  ['credit_note_id', 'text'],
  ['number', 'text'],
  ['invoice_id', 'text'],
  ['invoice_number', 'text'],
  ['customer_id', 'text'],
  ['customer_name', 'text'],
  ['status', 'text'],
  ['type', 'text'],
  ['reason', 'text'],
  ['total_cents', 'cents'],
  ['pre_payment_amount_cents', 'cents'],
  ['post_payment_amount_cents', 'cents'],
  ['out_of_band_amount_cents', 'cents'],
  ['total', 'amount'],
  ['pre_payment_amount', 'amount'],
  ['post_payment_amount', 'amount'],
  ['out_of_band_amount', 'amount'],
  ['currency', 'text'],
  ['pdf_url', 'text'],
  ['created_at', 'time'],
  ['voided_at', 'time'],
  ['livemode', 'boolean'],
  ['stripe_account_id', 'text'],
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

/** wallet_balances, one row per customer, account, currency and mode. */
export const WALLET_BALANCE_COLUMNS: readonly ColumnSpec[] = [
  ['customer_id', 'text'],
  ['stripe_account_id', 'text'],
  ['currency', 'text'],
  ['livemode', 'boolean'],
  ['balance_cents', 'cents'],
  ['balance', 'amount'],
  ['owed_cents', 'cents'],
  ['owed', 'amount'],
  ['open_invoices', 'integer'],
  ['entries', 'integer'],
  ['last_entry_at', 'time'],
];

/** finance_wallet_ledger, one row per entry. */
export const WALLET_ENTRY_COLUMNS: readonly ColumnSpec[] = [
  ['entry_id', 'integer'],
  ['created_at', 'time'],
  ['occurred_at', 'time'],
  ['customer_id', 'text'],
  ['stripe_account_id', 'text'],
  ['entry_type', 'text'],
  ['amount_cents', 'cents'],
  ['amount', 'amount'],
  ['debt_settled_cents', 'cents'],
  ['debt_settled', 'amount'],
  ['currency', 'text'],
  ['invoice_id', 'text'],
  ['invoice_number', 'text'],
  ['charge_id', 'text'],
  ['refund_id', 'text'],
  ['reason', 'text'],
  ['source_event_id', 'text'],
  ['livemode', 'boolean'],
];
