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

/** The first key of the two-key advisory locks on invoice ids, so they share no key with other locks. */
const INVOICE_LOCK_SPACE = 0x1a7e1c;

const LOCK_KEYS = {
  name: 'lock_invoice_keys',
  text: `SELECT pg_advisory_xact_lock(${INVOICE_LOCK_SPACE}, k)
           FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($1::text[]) AS id ORDER BY k) AS keys`,
};

/**
 * Serialises the transactions that merge any of these invoices, existing or not yet inserted, by
 * locks taken in one pass in key order until commit. Row locks alone come in two passes (lock the
 * rows that exist, then insert the new ones, then lock those another transaction inserted first),
 * and two batches overlapping on several invoices deadlocked across those passes: PostgreSQL broke
 * each cycle after its one-second deadlock_timeout. A hash collision only makes two unrelated
 * invoices wait for each other; the keys are still taken in one order.
 */
export async function lockInvoiceKeys(c: SqlClient, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await c.query({ ...LOCK_KEYS, values: [ids] });
}

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

const LOCK_FREE = {
  name: 'lock_free_invoices',
  text: `SELECT ${SELECT_LIST} FROM invoices WHERE stripe_invoice_id = ANY($1::text[]) ORDER BY stripe_invoice_id FOR UPDATE SKIP LOCKED`,
};

/** lockInvoices, leaving out the rows another transaction holds (a consumer merging them does the same work). */
export async function lockFreeInvoices(c: SqlClient, ids: readonly string[]): Promise<InvoiceState[]> {
  if (ids.length === 0) return [];
  const res = await c.query<Record<string, unknown>>({ ...LOCK_FREE, values: [ids] });
  return res.rows.map(fromRow);
}

/** Sets the overdue flag of rows this transaction holds locked. */
export async function setOverdueFlags(c: SqlClient, flags: ReadonlyMap<string, boolean>): Promise<void> {
  if (flags.size === 0) return;
  await c.query({
    name: 'set_overdue_flags',
    text: `UPDATE invoices AS i SET overdue = f.overdue, updated_at = now()
             FROM unnest($1::text[], $2::boolean[]) AS f(id, overdue)
            WHERE i.stripe_invoice_id = f.id`,
    values: [[...flags.keys()], [...flags.values()]],
  });
}
