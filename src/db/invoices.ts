import type { EntityManager } from 'typeorm';
import type { InvoiceState } from '../billing/invoice-state';
import type { ObjectRepository } from './object-repository';
import { statementFamily, valuesList, type SqlClient } from './sql-client';

/** How a field is stored: its SQL type, or a conversion (unix seconds ↔ timestamptz, cents ↔ bigint). */
type Kind = 'text' | 'boolean' | 'integer' | 'seconds' | 'cents' | 'json';

/** The state fields and the columns that hold them; one list drives select, insert and update. */
export const COLUMNS: ReadonlyArray<readonly [keyof InvoiceState, string, Kind]> = [
  ['stripeInvoiceId', 'stripe_invoice_id', 'text'],
  ['stripeCustomerId', 'stripe_customer_id', 'text'],
  ['customerEmail', 'customer_email', 'text'],
  ['customerName', 'customer_name', 'text'],
  ['number', 'number', 'text'],
  ['status', 'status', 'text'],
  ['overdue', 'overdue', 'boolean'],
  ['amountCents', 'amount_cents', 'cents'],
  ['amountPaidCents', 'amount_paid_cents', 'cents'],
  ['amountRemainingCents', 'amount_remaining_cents', 'cents'],
  ['totalCents', 'total_cents', 'cents'],
  ['currency', 'currency', 'text'],
  ['dueDate', 'due_date', 'seconds'],
  ['collectionMethod', 'collection_method', 'text'],
  ['billingReason', 'billing_reason', 'text'],
  ['hostedInvoiceUrl', 'hosted_invoice_url', 'text'],
  ['invoicePdfUrl', 'invoice_pdf_url', 'text'],
  ['livemode', 'livemode', 'boolean'],
  ['metadata', 'metadata', 'json'],
  ['attemptCount', 'attempt_count', 'integer'],
  ['stripeCreatedAt', 'stripe_created_at', 'seconds'],
  ['finalizedAt', 'finalized_at', 'seconds'],
  ['paidAt', 'paid_at', 'seconds'],
  ['voidedAt', 'voided_at', 'seconds'],
  ['markedUncollectibleAt', 'marked_uncollectible_at', 'seconds'],
  ['deletedAt', 'deleted_at', 'seconds'],
  ['lastEventId', 'last_event_id', 'text'],
  ['lastEventCreatedAt', 'last_event_created_at', 'seconds'],
];

export const SELECT_LIST = COLUMNS.map(([, col, kind]) =>
  kind === 'seconds' ? `extract(epoch from ${col})::bigint AS ${col}` : col,
).join(', ');

export function fromRow(row: Record<string, unknown>): InvoiceState {
  const state: Record<string, unknown> = {};
  for (const [key, col, kind] of COLUMNS) {
    const v = row[col];
    state[key] = (kind === 'seconds' || kind === 'cents') && v !== null ? Number(v) : v;
  }
  return state as unknown as InvoiceState;
}

function toParam(state: InvoiceState, key: keyof InvoiceState, kind: Kind): unknown {
  const v = state[key];
  if (kind === 'json') return JSON.stringify(v);
  return v;
}

/** Casts spelled out, so the same placeholders also type a VALUES list, where no column implies one. */
export const placeholder = (kind: Kind, n: number): string =>
  kind === 'seconds' ? `to_timestamp($${n}::double precision)` : kind === 'cents' ? `$${n}::bigint` : kind === 'json' ? `$${n}::jsonb` : `$${n}::${kind}`;

export const params = (state: InvoiceState): unknown[] => COLUMNS.map(([key, , kind]) => toParam(state, key, kind));

export async function findInvoice(db: EntityManager, stripeInvoiceId: string): Promise<InvoiceState | null> {
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT ${SELECT_LIST} FROM invoices WHERE stripe_invoice_id = $1`,
    [stripeInvoiceId],
  );
  return rows.length === 0 ? null : fromRow(rows[0]!);
}

/**
 * Rows the sweep must look at, in id order after `afterId`: open and past due but not yet flagged,
 * or whose next dunning check has come. Both read a partial index.
 */
export async function sweepCandidates(db: EntityManager, nowSeconds: number, afterId: string, limit: number): Promise<Array<{ id: string; stripeInvoiceId: string }>> {
  const rows: { id: string; stripe_invoice_id: string }[] = await db.query(
    `SELECT id, stripe_invoice_id FROM (
       SELECT id, stripe_invoice_id FROM invoices
        WHERE status = 'open' AND NOT overdue AND due_date < to_timestamp($1)
          AND amount_remaining_cents > 0 AND deleted_at IS NULL
       UNION
       SELECT id, stripe_invoice_id FROM invoices WHERE next_dunning_at <= to_timestamp($1)
     ) c
     WHERE id > $2::bigint
     ORDER BY id
     LIMIT $3`,
    [nowSeconds, afterId, limit],
  );
  return rows.map((r) => ({ id: r.id, stripeInvoiceId: r.stripe_invoice_id }));
}

/** The rows of these invoices that exist, unlocked (a dry run's view). */
export async function findInvoices(db: EntityManager, stripeInvoiceIds: readonly string[]): Promise<Map<string, InvoiceState>> {
  if (stripeInvoiceIds.length === 0) return new Map();
  const rows: Record<string, unknown>[] = await db.query(`SELECT ${SELECT_LIST} FROM invoices WHERE stripe_invoice_id = ANY($1::text[])`, [stripeInvoiceIds]);
  return new Map(rows.map((r) => [r['stripe_invoice_id'] as string, fromRow(r)]));
}

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
 * Locks the rows of these invoices that exist, in one statement, until the transaction ends. The
 * rows are locked in the order of their ids, so transactions locking overlapping sets queue behind
 * each other instead of deadlocking.
 */
export async function lockInvoices(c: SqlClient, ids: readonly string[]): Promise<Map<string, InvoiceState>> {
  const res = await c.query<Record<string, unknown>>({ ...LOCK_MANY, values: [ids] });
  return new Map(res.rows.map((r) => [r['stripe_invoice_id'] as string, fromRow(r)]));
}

/**
 * Inserts new invoices; returns the ids that another transaction inserted first (nothing was
 * written for those; the caller locks and merges into them). Inserted in id order, for the same
 * reason as lockInvoices.
 */
export async function insertInvoices(c: SqlClient, states: readonly InvoiceState[]): Promise<string[]> {
  if (states.length === 0) return [];
  const sorted = [...states].sort(byId);
  const res = await c.query<{ stripe_invoice_id: string }>({ ...INSERT_MANY(sorted.length), values: sorted.flatMap(params) });
  const inserted = new Set(res.rows.map((r) => r.stripe_invoice_id));
  return sorted.map((s) => s.stripeInvoiceId).filter((id) => !inserted.has(id));
}

/** Rewrites invoices this transaction holds locked, each id at most once. */
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

/** The invoice kind's write path (see ObjectRepository). */
export const invoiceRepository: ObjectRepository<InvoiceState> = {
  lockKeys: lockInvoiceKeys,
  lock: lockInvoices,
  find: findInvoices,
  insert: insertInvoices,
  update: updateInvoices,
};
