import type { InvoiceState } from '../billing/invoice-state';
import { COLUMNS, fromRow, params, placeholder, SELECT_LIST } from './invoice-rows';
import { statementFamily, valuesList, type SqlClient } from './sql-client';

const WIDTH = COLUMNS.length;
const byId = (a: InvoiceState, b: InvoiceState) => (a.stripeInvoiceId < b.stripeInvoiceId ? -1 : 1);

const LOCK_MANY = {
  name: 'lock_invoices',
  text: `SELECT ${SELECT_LIST} FROM invoices WHERE stripe_invoice_id = ANY($1::text[]) ORDER BY stripe_invoice_id FOR UPDATE`,
};

const INSERT_MANY = statementFamily(
  'insert_invoices',
  (rows) => `INSERT INTO invoices (${COLUMNS.map(([, c]) => c).join(', ')})
    VALUES ${valuesList(rows, WIDTH, (n, c) => placeholder(COLUMNS[c]![2], n))}
    ON CONFLICT (stripe_invoice_id) DO NOTHING
    RETURNING stripe_invoice_id`,
);

const UPDATE_MANY = statementFamily(
  'update_invoices',
  (rows) => `UPDATE invoices AS i SET ${COLUMNS.slice(1)
    .map(([, c]) => `${c} = v.${c}`)
    .join(', ')}, updated_at = now()
    FROM (VALUES ${valuesList(rows, WIDTH, (n, c) => placeholder(COLUMNS[c]![2], n))}) AS v(${COLUMNS.map(([, c]) => c).join(', ')})
    WHERE i.stripe_invoice_id = v.stripe_invoice_id`,
);

/**
 * lockInvoice for several invoices in one statement. The rows are locked in the order of their
 * ids, so transactions locking overlapping sets queue behind each other instead of deadlocking.
 */
export async function lockInvoices(c: SqlClient, ids: readonly string[]): Promise<Map<string, InvoiceState>> {
  const res = await c.query<Record<string, unknown>>({ ...LOCK_MANY, values: [ids] });
  return new Map(res.rows.map((r) => [r['stripe_invoice_id'] as string, fromRow(r)]));
}

/**
 * insertInvoice for several new invoices; returns the ids that another transaction inserted first
 * (nothing was written for those). Inserted in id order, for the same reason as lockInvoices.
 */
export async function insertInvoices(c: SqlClient, states: readonly InvoiceState[]): Promise<string[]> {
  if (states.length === 0) return [];
  const sorted = [...states].sort(byId);
  const res = await c.query<{ stripe_invoice_id: string }>({ ...INSERT_MANY(sorted.length), values: sorted.flatMap(params) });
  const inserted = new Set(res.rows.map((r) => r.stripe_invoice_id));
  return sorted.map((s) => s.stripeInvoiceId).filter((id) => !inserted.has(id));
}

/** updateInvoice for several invoices this transaction holds locked, each id at most once. */
export async function updateInvoices(c: SqlClient, states: readonly InvoiceState[]): Promise<void> {
  if (states.length === 0) return;
  const sorted = [...states].sort(byId);
  await c.query({ ...UPDATE_MANY(sorted.length), values: sorted.flatMap(params) });
}
