import type { EntityManager } from 'typeorm';
import type { InvoiceState } from '../billing/invoice-state';
import type { ObjectRepository } from './object-repository';
import { objectTable } from './object-table';
import { accountParams, accountWhere, type AccountScope } from './account-scope';
import type { SqlClient } from './sql-client';

/** The state fields and the columns that hold them; one list drives select, insert and update. */
const invoiceTable = objectTable<InvoiceState>({
  table: 'invoices',
  columns: [
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
    ['stripeAccountId', 'stripe_account_id', 'text'],
  ],
});

export const COLUMNS = invoiceTable.columns;

/**
 * The invoices that say why they were issued (metadata.reason, and a manual one's
 * metadata.wallet_effect), counted by what they say: what `stats` reads the wallet reasons from.
 */
export async function walletReasonCounts(db: EntityManager, account: AccountScope): Promise<Array<{ reason: string; walletEffect: string | null; count: number }>> {
  const rows: { reason: string; wallet_effect: string | null; count: string }[] = await db.query(
    `SELECT metadata->>'reason' AS reason, metadata->>'wallet_effect' AS wallet_effect, count(*) AS count
       FROM invoices
      WHERE metadata ? 'reason' AND deleted_at IS NULL AND ${accountWhere('stripe_account_id', 1)}
      GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST`,
    accountParams(account),
  );
  return rows.map((r) => ({ reason: r.reason, walletEffect: r.wallet_effect, count: Number(r.count) }));
}

export const findInvoice = (db: EntityManager, stripeInvoiceId: string): Promise<InvoiceState | null> => invoiceTable.findOne(db, stripeInvoiceId);

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

const LOCK_FREE = {
  name: 'lock_free_invoices',
  text: `SELECT ${invoiceTable.selectList} FROM invoices WHERE stripe_invoice_id = ANY($1::text[]) ORDER BY stripe_invoice_id FOR UPDATE SKIP LOCKED`,
};

/** lockInvoices, leaving out the rows another transaction holds (a consumer merging them does the same work). */
export async function lockFreeInvoices(c: SqlClient, ids: readonly string[]): Promise<InvoiceState[]> {
  if (ids.length === 0) return [];
  const res = await c.query<Record<string, unknown>>({ ...LOCK_FREE, values: [ids] });
  return res.rows.map(invoiceTable.fromRow);
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
export const invoiceRepository: ObjectRepository<InvoiceState> = invoiceTable;
