import type { EntityManager } from 'typeorm';
import type { InvoiceState } from '../billing/invoice-state';

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

const INSERT_SQL = `INSERT INTO invoices (${COLUMNS.map(([, c]) => c).join(', ')})
  VALUES (${COLUMNS.map(([, , k], i) => placeholder(k, i + 1)).join(', ')})
  ON CONFLICT (stripe_invoice_id) DO NOTHING
  RETURNING id`;

const UPDATE_SQL = `UPDATE invoices SET ${COLUMNS.slice(1)
  .map(([, c, k], i) => `${c} = ${placeholder(k, i + 2)}`)
  .join(', ')}, updated_at = now()
  WHERE stripe_invoice_id = $1`;

export const params = (state: InvoiceState): unknown[] => COLUMNS.map(([key, , kind]) => toParam(state, key, kind));

/** Locks the invoice row for the rest of the transaction, so concurrent events of one invoice queue up. */
export async function lockInvoice(db: EntityManager, stripeInvoiceId: string): Promise<InvoiceState | null> {
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT ${SELECT_LIST} FROM invoices WHERE stripe_invoice_id = $1 FOR UPDATE`,
    [stripeInvoiceId],
  );
  return rows.length === 0 ? null : fromRow(rows[0]!);
}

export async function findInvoice(db: EntityManager, stripeInvoiceId: string): Promise<InvoiceState | null> {
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT ${SELECT_LIST} FROM invoices WHERE stripe_invoice_id = $1`,
    [stripeInvoiceId],
  );
  return rows.length === 0 ? null : fromRow(rows[0]!);
}

/** False when another transaction inserted the same invoice first; the caller then locks and merges. */
export async function insertInvoice(db: EntityManager, state: InvoiceState): Promise<boolean> {
  const rows: unknown[] = await db.query(INSERT_SQL, params(state));
  return rows.length === 1;
}

export async function updateInvoice(db: EntityManager, state: InvoiceState): Promise<void> {
  await db.query(UPDATE_SQL, params(state));
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
