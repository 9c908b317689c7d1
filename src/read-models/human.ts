import type { DbRow } from '../db/finance-columns';
import { groupThousands, renderTable } from './table';

/** The buckets of receivables_aging, youngest first: one column each in the aging table. */
const BUCKETS = ['current', '1-30', '31-60', '61-90', '90+'] as const;

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const day = (v: unknown): string => (v instanceof Date ? v.toISOString().slice(0, 10) : '');
const currencyLabel = (row: DbRow): string => `${text(row['currency']).toUpperCase()}${row['livemode'] ? '' : ' (test)'}`;
/** An amount, blank unless its minor units are above zero: the exception stands out, as days late does. */
const ifAny = (row: DbRow, name: string): string => (Number(row[`${name}_cents`]) > 0 ? groupThousands(text(row[name])) : '');

/**
 * The columns a person scans; CSV and JSON carry every column. The connected account (Stripe
 * Connect) is shown when a row listed has one: a platform without Connect never sees the column.
 */
export function invoiceTable(rows: readonly DbRow[]): string {
  if (rows.length === 0) return 'no invoices match';
  const accounts = rows.some((r) => r['stripe_account_id'] != null);
  return renderTable(
    [
      ...(accounts ? [{ header: 'ACCOUNT' }] : []),
      { header: 'INVOICE' },
      { header: 'CUSTOMER', max: 32 },
      { header: 'STATUS' },
      { header: 'DUE' },
      { header: 'DAYS LATE', right: true },
      { header: 'AMOUNT DUE', right: true },
      { header: 'REMAINING', right: true },
      { header: 'WRITTEN OFF', right: true },
      { header: 'CREDITED', right: true },
      { header: 'REFUNDED', right: true },
      { header: 'CURRENCY' },
    ],
    rows.map((r) => [
      ...(accounts ? [text(r['stripe_account_id'] ?? 'platform')] : []),
      // Drafts have no number yet.
      text(r['number'] ?? r['invoice_id']),
      text(r['customer_name'] ?? r['customer_email'] ?? r['customer_id']),
      text(r['display_status']),
      day(r['due_date']),
      Number(r['days_overdue']) > 0 ? text(r['days_overdue']) : '',
      groupThousands(text(r['amount_due'])),
      groupThousands(text(r['amount_remaining'])),
      ifAny(r, 'amount_written_off'),
      ifAny(r, 'amount_credited'),
      ifAny(r, 'amount_refunded'),
      currencyLabel(r),
    ]),
  );
}

/** Invoice payments for a person: CSV and JSON carry every column. */
export function paymentTable(rows: readonly DbRow[]): string {
  if (rows.length === 0) return 'no payments match';
  return renderTable(
    [
      { header: 'CREATED' },
      { header: 'INVOICE' },
      { header: 'CUSTOMER', max: 32 },
      { header: 'STATUS' },
      { header: 'METHOD' },
      { header: 'REQUESTED', right: true },
      { header: 'PAID', right: true },
      { header: 'REFUNDED', right: true },
      { header: 'CURRENCY' },
    ],
    rows.map((r) => [
      day(r['created_at']),
      // The invoice may not be stored yet: its id stands in for its number.
      text(r['invoice_number'] ?? r['invoice_id']),
      text(r['customer_name'] ?? r['customer_id']),
      text(r['status']),
      text(r['payment_method_type']),
      groupThousands(text(r['amount_requested'])),
      groupThousands(text(r['amount_paid'])),
      ifAny(r, 'amount_refunded'),
      currencyLabel(r),
    ]),
  );
}

/** Credit notes for a person: CSV and JSON carry every column. */
export function creditNoteTable(rows: readonly DbRow[]): string {
  if (rows.length === 0) return 'no credit notes match';
  return renderTable(
    [
      { header: 'CREATED' },
      { header: 'CREDIT NOTE' },
      { header: 'INVOICE' },
      { header: 'CUSTOMER', max: 32 },
      { header: 'STATUS' },
      { header: 'TYPE' },
      { header: 'TOTAL', right: true },
      { header: 'PRE-PAYMENT', right: true },
      { header: 'POST-PAYMENT', right: true },
      { header: 'CURRENCY' },
    ],
    rows.map((r) => [
      day(r['created_at']),
      text(r['number'] ?? r['credit_note_id']),
      text(r['invoice_number'] ?? r['invoice_id']),
      text(r['customer_name'] ?? r['customer_id']),
      text(r['status']),
      text(r['type']),
      groupThousands(text(r['total'])),
      groupThousands(text(r['pre_payment_amount'])),
      groupThousands(text(r['post_payment_amount'])),
      currencyLabel(r),
    ]),
  );
}

/** One line per currency, one column per bucket: amount owed and, in brackets, how many invoices. */
export function agingTable(rows: readonly DbRow[]): string {
  if (rows.length === 0) return 'nothing is owed: no open invoice has an amount remaining';
  const byCurrency = new Map<string, DbRow[]>();
  for (const r of rows) {
    const key = currencyLabel(r);
    byCurrency.set(key, [...(byCurrency.get(key) ?? []), r]);
  }
  const lines = [...byCurrency].map(([label, group]) => {
    const cells = BUCKETS.map((b) => {
      const r = group.find((g) => g['bucket'] === b);
      return r ? `${groupThousands(text(r['open_amount']))} (${text(r['invoice_count'])})` : '';
    });
    const first = group[0]!;
    return [label, ...cells, `${groupThousands(text(first['currency_total']))} (${text(first['currency_invoice_count'])})`];
  });
  const asOf = (rows[0]!['as_of'] as Date).toISOString();
  const table = renderTable(
    [{ header: 'CURRENCY' }, ...BUCKETS.map((b) => ({ header: b === 'current' ? 'CURRENT' : `${b} DAYS`, right: true })), { header: 'TOTAL', right: true }],
    lines,
  );
  return `open receivables as of ${asOf}: amount (invoices) by days past due\n\n${table}`;
}

/** A signed amount for a person: a credit shows its plus sign, so credits and debits read apart. */
const signed = (row: DbRow, name: string): string => {
  const amount = groupThousands(text(row[name]));
  return Number(row[`${name}_cents`]) > 0 ? `+${amount}` : amount;
};

/** A customer's wallet for a person: balance and amount owed per currency, then the entries newest first. */
export function walletTable(customerId: string, balances: readonly DbRow[], entries: readonly DbRow[]): string {
  if (balances.length === 0) return `no wallet entries and nothing owed for ${customerId}`;
  const accounts = balances.some((r) => r['stripe_account_id'] != null);
  const summary = renderTable(
    [...(accounts ? [{ header: 'ACCOUNT' }] : []), { header: 'CURRENCY' }, { header: 'BALANCE', right: true }, { header: 'OWED', right: true }, { header: 'OPEN INVOICES', right: true }, { header: 'LAST ENTRY' }],
    balances.map((r) => [
      ...(accounts ? [text(r['stripe_account_id'] ?? 'platform')] : []),
      currencyLabel(r),
      groupThousands(text(r['balance'])),
      groupThousands(text(r['owed'])),
      text(r['open_invoices']),
      day(r['last_entry_at']),
    ]),
  );
  if (entries.length === 0) return `${summary}

no ledger entries`;
  const ledger = renderTable(
    [
      { header: 'WRITTEN' },
      { header: 'ENTRY' },
      { header: 'AMOUNT', right: true },
      { header: 'DEBT SETTLED', right: true },
      { header: 'CURRENCY' },
      { header: 'INVOICE' },
      { header: 'REFUND' },
    ],
    entries.map((r) => [
      day(r['created_at']),
      text(r['entry_type']),
      signed(r, 'amount'),
      ifAny(r, 'debt_settled'),
      currencyLabel(r),
      text(r['invoice_number'] ?? r['invoice_id']),
      text(r['refund_id']),
    ]),
  );
  return `${summary}

${ledger}`;
}
