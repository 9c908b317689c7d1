import type { MigrationInterface, QueryRunner } from 'typeorm';
import { READONLY_ROLE } from './1764028800000-FinanceViews';
import {
  CHARGE_TOTALS,
  COMMENTS as MONEY_VIEW_COMMENTS,
  CREDIT_NOTES as PREVIOUS_CREDIT_NOTES,
  CREDIT_TOTALS,
  DEPENDENT_VIEWS as PREVIOUS_DEPENDENT_VIEWS,
  grantSql,
  INVOICE_ROWS as PREVIOUS_INVOICE_ROWS,
  PAYMENTS as PREVIOUS_PAYMENTS,
} from './1765200000000-MoneyFinanceViews';

/**
 * Stripe Connect: a platform receives its connected accounts' events on a Connect endpoint, each
 * naming the account in `account`. Stripe ids are unique across all of Stripe, so every table
 * keeps its Stripe id as its key and records the account beside it: `stripe_account_id`, null for
 * the platform's own objects and events. Rows written before it take the account their last event
 * named (ConnectedAccountsBackfill1765500002000), so a Connect endpoint that posted here already
 * keeps its objects.
 *
 * The finance views that list rows (finance_invoice_rows, finance_invoices, overdue_invoices,
 * finance_payments, finance_credit_notes) gain the column at the end, with CREATE OR REPLACE VIEW,
 * so a spreadsheet that reads the CSV by column position keeps working and the views keep their
 * grants and comments. receivables_aging_by_account is receivables_aging per account.
 *
 * Adding a nullable column without a default changes the catalog only, so no table is rewritten;
 * the indexes come in ConnectedAccountsIndexes1765500001000, built without blocking writes.
 */

const TABLES = ['invoices', 'invoice_payments', 'charges', 'refunds', 'credit_notes', 'billing_contacts', 'stripe_events'];

// Entities say the same (entities/*.entity.ts), unescaped.
const ACCOUNT_COMMENT = `the connected account (Connect) the row belongs to; null for the platform''s own`;

const INVOICE_ROWS = `
  CREATE OR REPLACE VIEW finance_invoice_rows AS
  SELECT stripe_invoice_id AS invoice_id,
         stripe_customer_id AS customer_id,
         customer_name,
         customer_email,
         number,
         status,
         CASE WHEN is_overdue THEN 'overdue' ELSE status END AS display_status,
         amount_cents AS amount_due_cents,
         amount_paid_cents,
         owed_cents AS amount_remaining_cents,
         finance_major_units(amount_cents, currency) AS amount_due,
         finance_major_units(amount_paid_cents, currency) AS amount_paid,
         finance_major_units(owed_cents, currency) AS amount_remaining,
         currency,
         due_date,
         CASE WHEN is_overdue THEN finance_days_past_due(due_date, now()) ELSE 0 END AS days_overdue,
         CASE WHEN status = 'open' AND amount_remaining_cents > 0 THEN hosted_invoice_url END AS pay_url,
         invoice_pdf_url AS pdf_url,
         stripe_created_at AS created_at,
         finalized_at,
         paid_at,
         livemode,
         written_off_cents AS amount_written_off_cents,
         finance_major_units(written_off_cents, currency) AS amount_written_off,
         voided_at,
         marked_uncollectible_at,
         finance_email_recipient(contact_invoice_email, customer_email, contact_primary_email) AS recipient_email,
         metadata,
         refunded_cents AS amount_refunded_cents,
         finance_major_units(refunded_cents, currency) AS amount_refunded,
         credited_cents AS amount_credited_cents,
         finance_major_units(credited_cents, currency) AS amount_credited,
         amount_paid_cents - refunded_cents AS net_collected_cents,
         finance_major_units(amount_paid_cents - refunded_cents, currency) AS net_collected,
         receipt_url,
         stripe_account_id
    FROM (
      SELECT inv.*,
             (inv.status = 'open' AND inv.due_date < now() AND inv.amount_remaining_cents > 0) AS is_overdue,
             CASE WHEN inv.status IN ('void', 'uncollectible') THEN 0 ELSE inv.amount_remaining_cents END AS owed_cents,
             CASE WHEN inv.status = 'uncollectible' THEN inv.amount_remaining_cents ELSE 0 END AS written_off_cents,
             bc.invoice_email AS contact_invoice_email,
             bc.primary_email AS contact_primary_email,
             coalesce(ct.refunded_cents, 0) AS refunded_cents,
             coalesce(cr.credited_cents, 0) AS credited_cents,
             ct.receipt_url
        FROM invoices inv
        LEFT JOIN billing_contacts bc ON bc.stripe_customer_id = inv.stripe_customer_id
        LEFT JOIN LATERAL (${CHARGE_TOTALS}) ct ON true
        LEFT JOIN LATERAL (${CREDIT_TOTALS}) cr ON true
       WHERE inv.deleted_at IS NULL AND inv.currency IS NOT NULL
       ) i`;

// `SELECT *` was expanded when these were created: created again, they take the new column, last.
const INVOICES = `CREATE OR REPLACE VIEW finance_invoices AS SELECT * FROM finance_invoice_rows WHERE status <> 'draft'`;
const OVERDUE = `CREATE OR REPLACE VIEW overdue_invoices AS
   SELECT * FROM finance_invoices WHERE display_status = 'overdue' ORDER BY due_date, invoice_id`;

// The payment's own account: its invoice, charge and refunds are the same account's (the pipeline
// refuses an event of another account for a row it holds).
const PAYMENTS = `
  CREATE OR REPLACE VIEW finance_payments AS
  SELECT p.stripe_invoice_payment_id AS invoice_payment_id,
         p.stripe_invoice_id AS invoice_id,
         inv.number AS invoice_number,
         coalesce(inv.stripe_customer_id, ch.stripe_customer_id) AS customer_id,
         inv.customer_name,
         p.status,
         p.is_default,
         p.amount_requested_cents,
         p.amount_cents AS amount_paid_cents,
         coalesce(ch.amount_refunded_cents, 0) AS amount_refunded_cents,
         finance_major_units(p.amount_requested_cents, p.currency) AS amount_requested,
         finance_major_units(p.amount_cents, p.currency) AS amount_paid,
         finance_major_units(coalesce(ch.amount_refunded_cents, 0), p.currency) AS amount_refunded,
         p.currency,
         p.stripe_payment_intent_id AS payment_intent_id,
         coalesce(ch.stripe_charge_id, p.stripe_charge_id) AS charge_id,
         ch.status AS charge_status,
         ch.payment_method_type,
         ch.failure_code,
         ch.receipt_url,
         coalesce(rf.refund_count, 0) AS refund_count,
         p.created_at,
         p.paid_at,
         p.canceled_at,
         p.livemode,
         p.stripe_account_id
    FROM invoice_payments p
    LEFT JOIN invoices inv ON inv.stripe_invoice_id = p.stripe_invoice_id
    LEFT JOIN LATERAL (
      SELECT (array_agg(c.stripe_charge_id ORDER BY c.status = 'succeeded' DESC, c.created_at DESC, c.stripe_charge_id DESC))[1] AS charge_id
        FROM charges c
       WHERE c.stripe_charge_id = p.stripe_charge_id
          OR (p.stripe_charge_id IS NULL AND c.stripe_payment_intent_id = p.stripe_payment_intent_id)
    ) pick ON true
    LEFT JOIN charges ch ON ch.stripe_charge_id = pick.charge_id
    LEFT JOIN LATERAL (
      SELECT count(*)::integer AS refund_count FROM refunds r
       WHERE (r.stripe_charge_id = coalesce(ch.stripe_charge_id, p.stripe_charge_id)
              OR r.stripe_payment_intent_id = p.stripe_payment_intent_id)
         AND r.status IS DISTINCT FROM 'failed' AND r.status IS DISTINCT FROM 'canceled'
    ) rf ON true`;

const CREDIT_NOTES = `
  CREATE OR REPLACE VIEW finance_credit_notes AS
  SELECT n.stripe_credit_note_id AS credit_note_id,
         n.number,
         n.stripe_invoice_id AS invoice_id,
         inv.number AS invoice_number,
         coalesce(n.stripe_customer_id, inv.stripe_customer_id) AS customer_id,
         inv.customer_name,
         n.status,
         n.type,
         n.reason,
         n.total_cents,
         n.pre_payment_amount_cents,
         n.post_payment_amount_cents,
         n.out_of_band_amount_cents,
         finance_major_units(n.total_cents, n.currency) AS total,
         finance_major_units(n.pre_payment_amount_cents, n.currency) AS pre_payment_amount,
         finance_major_units(n.post_payment_amount_cents, n.currency) AS post_payment_amount,
         finance_major_units(n.out_of_band_amount_cents, n.currency) AS out_of_band_amount,
         n.currency,
         n.pdf_url,
         n.created_at,
         n.voided_at,
         n.livemode,
         n.stripe_account_id
    FROM credit_notes n
    LEFT JOIN invoices inv ON inv.stripe_invoice_id = n.stripe_invoice_id`;

/**
 * receivables_aging with the account as one more grouping: every bucket of every account, livemode
 * and currency with money owed, zeros included. The platform's own invoices are the rows whose
 * stripe_account_id is null.
 */
const AGING_BY_ACCOUNT = `
  CREATE VIEW receivables_aging_by_account AS
  WITH buckets(bucket, bucket_order) AS (
    VALUES ('current', 1), ('1-30', 2), ('31-60', 3), ('61-90', 4), ('90+', 5)
  ), open_items AS (
    SELECT stripe_account_id, livemode, currency, finance_aging_bucket(days_overdue) AS bucket, amount_remaining_cents
      FROM finance_invoices
     WHERE status = 'open' AND amount_remaining_cents > 0
  ), groups AS (
    SELECT DISTINCT stripe_account_id, livemode, currency FROM open_items
  )
  SELECT g.stripe_account_id, g.livemode, g.currency, b.bucket, b.bucket_order,
         count(o.amount_remaining_cents)::integer AS invoice_count,
         coalesce(sum(o.amount_remaining_cents), 0)::bigint AS open_amount_cents,
         finance_major_units(coalesce(sum(o.amount_remaining_cents), 0)::bigint, g.currency) AS open_amount
    FROM groups g
   CROSS JOIN buckets b
    LEFT JOIN open_items o
      ON o.stripe_account_id IS NOT DISTINCT FROM g.stripe_account_id AND o.livemode = g.livemode AND o.currency = g.currency AND o.bucket = b.bucket
   GROUP BY g.stripe_account_id, g.livemode, g.currency, b.bucket, b.bucket_order`;

const COMMENTS = [
  ...TABLES.map((t) => `COMMENT ON COLUMN ${t}.stripe_account_id IS '${ACCOUNT_COMMENT}'`),
  ...['finance_invoice_rows', 'finance_invoices', 'overdue_invoices', 'finance_payments', 'finance_credit_notes', 'receivables_aging_by_account'].map(
    (v) => `COMMENT ON COLUMN ${v}.stripe_account_id IS '${ACCOUNT_COMMENT}'`,
  ),
  `COMMENT ON VIEW receivables_aging_by_account IS 'receivables_aging by connected account (stripe_account_id; null: the platform''s own), livemode, currency and bucket as of now(); every bucket of each, zeros included.'`,
];

export class ConnectedAccounts1765500000000 implements MigrationInterface {
  name = 'ConnectedAccounts1765500000000';

  async up(q: QueryRunner): Promise<void> {
    // Adding a column takes each table's strongest lock for a moment; queued behind a long reader it
    // would hold every writer back, so it gives up instead and the next start tries again.
    await q.query(`SET LOCAL lock_timeout = '10s'`);
    for (const t of TABLES) await q.query(`ALTER TABLE ${t} ADD COLUMN stripe_account_id text`);
    for (const sql of [INVOICE_ROWS, INVOICES, OVERDUE, PAYMENTS, CREDIT_NOTES, AGING_BY_ACCOUNT, ...COMMENTS]) await q.query(sql);
    await q.query(grantSql(READONLY_ROLE, ['receivables_aging_by_account']));
  }

  async down(q: QueryRunner): Promise<void> {
    // A view's columns cannot be dropped in place: the views go, then the columns, then
    // MoneyFinanceViews1765200000000's definitions come back (after the columns, since `inv.*`
    // would otherwise take the column again).
    const views = ['receivables_aging_by_account', 'finance_credit_notes', 'finance_payments', 'overdue_invoices', 'receivables_aging', 'finance_invoices', 'finance_invoice_rows'];
    for (const v of views) await q.query(`DROP VIEW ${v}`);
    for (const t of TABLES) await q.query(`ALTER TABLE ${t} DROP COLUMN stripe_account_id`);
    for (const sql of [PREVIOUS_INVOICE_ROWS, ...PREVIOUS_DEPENDENT_VIEWS, PREVIOUS_PAYMENTS, PREVIOUS_CREDIT_NOTES, ...MONEY_VIEW_COMMENTS]) {
      await q.query(sql);
    }
    await q.query(grantSql(READONLY_ROLE, ['finance_invoice_rows', 'finance_invoices', 'receivables_aging', 'overdue_invoices', 'finance_payments', 'finance_credit_notes']));
  }
}
