import type { MigrationInterface, QueryRunner } from 'typeorm';
import { READONLY_ROLE } from './1764028800000-FinanceViews';

/**
 * What finance sees of the money behind an invoice: what was refunded, what credit notes took
 * off, what was collected net, and the receipt; and one view each for payments and credit notes.
 *
 * Stripe delivers payments, charges, refunds and credit notes in any order and the tables carry no
 * foreign keys, so every view shows what is known: a payment whose invoice has not arrived keeps
 * its row with an empty invoice number, an invoice whose charges have not arrived shows nothing
 * refunded. An invoice's charges and credit notes are summed in a LATERAL subquery of that one
 * invoice (one row, whatever their number), which runs as index lookups on stripe_invoice_id for
 * the invoices a query keeps (one invoice, one customer's, one page of a listing: the listings in
 * src/db/finance-views.ts choose their page first). A query that reads none of its columns
 * (receivables_aging, the totals) does not run it at all: PostgreSQL removes a left join to a
 * one-row aggregate. finance_invoice_rows is written without a WITH clause (AdoptionFixes' has
 * one) so that the planner can merge it into the query that reads it, filters and order included.
 *
 * finance_invoice_rows and its dependents are dropped and created again (a view's columns cannot
 * be changed in place); `down` puts back AdoptionFixes1764806400000's definitions, copied below.
 */

/**
 * Which charges belong to which invoice, by every road Stripe gives: the charge's own invoice field
 * (API versions before 2025-03-31, or filled in by the charges repository when it links them), an
 * invoice payment naming the charge, or one naming the charge's payment intent. The view follows
 * the roads itself, so a charge counts for its invoice even where the repository's link has not
 * been written. A canceled invoice payment links nothing, as in the repository: its payment
 * intent collected nothing for the invoice. UNION, not UNION ALL: a charge reached by two roads
 * is one charge.
 */
const INVOICE_CHARGES = `
  CREATE VIEW finance_invoice_charges AS
  SELECT c.stripe_invoice_id AS invoice_id, c.stripe_charge_id AS charge_id
    FROM charges c
   WHERE c.stripe_invoice_id IS NOT NULL
  UNION
  SELECT p.stripe_invoice_id, c.stripe_charge_id
    FROM invoice_payments p
    JOIN charges c ON c.stripe_charge_id = p.stripe_charge_id
   WHERE p.status <> 'canceled'
  UNION
  SELECT p.stripe_invoice_id, c.stripe_charge_id
    FROM invoice_payments p
    JOIN charges c ON c.stripe_payment_intent_id = p.stripe_payment_intent_id
   WHERE p.status <> 'canceled'`;

// The receipt is the latest succeeded charge's that has one; amount_refunded counts pending refunds
// as Stripe's charge does (a refund that fails later gives its amount back to the charge). Each
// (invoice, charge) pair is one row of finance_invoice_charges, so no charge is counted twice.
export const CHARGE_TOTALS = `
      SELECT sum(c.amount_refunded_cents)::bigint AS refunded_cents,
             (array_agg(c.receipt_url ORDER BY c.created_at DESC, c.stripe_charge_id DESC)
                FILTER (WHERE c.status = 'succeeded' AND c.receipt_url IS NOT NULL))[1] AS receipt_url
        FROM finance_invoice_charges l
        JOIN charges c ON c.stripe_charge_id = l.charge_id
       WHERE l.invoice_id = inv.stripe_invoice_id`;

// Issued credit notes only: a voided one gave nothing back. Pre-payment and post-payment alike.
export const CREDIT_TOTALS = `
      SELECT sum(n.total_cents)::bigint AS credited_cents
        FROM credit_notes n
       WHERE n.stripe_invoice_id = inv.stripe_invoice_id AND n.status = 'issued'`;

// AdoptionFixes' finance_invoice_rows with the money columns appended: new columns go last, so a
// spreadsheet that reads the CSV by column position keeps working.
export const INVOICE_ROWS = `
  CREATE VIEW finance_invoice_rows AS
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
         receipt_url
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

/**
 * The charge of an invoice payment: the one it names, else its payment intent's (the succeeded
 * one, else the latest attempt). The invoice, the charge and the refunds may each be missing yet.
 * The charge is picked by an aggregate rather than ORDER BY … LIMIT 1: a left join to a one-row
 * aggregate, like one to charges by its unique id, is removed by the planner when a query reads
 * none of its columns, so paging through payments by date costs no charge lookups.
 */
export const PAYMENTS = `
  CREATE VIEW finance_payments AS
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
         p.livemode
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

export const CREDIT_NOTES = `
  CREATE VIEW finance_credit_notes AS
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
         n.livemode
    FROM credit_notes n
    LEFT JOIN invoices inv ON inv.stripe_invoice_id = n.stripe_invoice_id`;

/**
 * receivables_aging and overdue_invoices read finance_invoices, so they go and come back with it;
 * their text is AdoptionFixes'. Aging sums amount_remaining_cents, which Stripe already lowers by
 * every pre-payment credit note: a credit note is never subtracted a second time here.
 */
export const DEPENDENT_VIEWS = [
  `CREATE VIEW finance_invoices AS SELECT * FROM finance_invoice_rows WHERE status <> 'draft'`,
  `CREATE VIEW receivables_aging AS
   WITH buckets(bucket, bucket_order) AS (
     VALUES ('current', 1), ('1-30', 2), ('31-60', 3), ('61-90', 4), ('90+', 5)
   ), open_items AS (
     SELECT livemode, currency, finance_aging_bucket(days_overdue) AS bucket, amount_remaining_cents
       FROM finance_invoices
      WHERE status = 'open' AND amount_remaining_cents > 0
   ), currencies AS (
     SELECT DISTINCT livemode, currency FROM open_items
   )
   SELECT c.livemode, c.currency, b.bucket, b.bucket_order,
          count(o.amount_remaining_cents)::integer AS invoice_count,
          coalesce(sum(o.amount_remaining_cents), 0)::bigint AS open_amount_cents,
          finance_major_units(coalesce(sum(o.amount_remaining_cents), 0)::bigint, c.currency) AS open_amount
     FROM currencies c
    CROSS JOIN buckets b
     LEFT JOIN open_items o ON o.livemode = c.livemode AND o.currency = c.currency AND o.bucket = b.bucket
    GROUP BY c.livemode, c.currency, b.bucket, b.bucket_order`,
  `CREATE VIEW overdue_invoices AS
   SELECT * FROM finance_invoices WHERE display_status = 'overdue' ORDER BY due_date, invoice_id`,
];

const DAYS_RULE = 'UTC calendar days from due_date to the moment, at least 1 once due_date has passed (due 1 Nov: 1 on 2 Nov, 30 on 1 Dec), else 0';

const INVOICES_COMMENT = `One row per finalized invoice (no drafts, no deleted). Amounts in minor units (*_cents) and major units (numeric, Stripe''s currency exponent). amount_remaining is what is owed: 0 on a void or uncollectible invoice (invoices.amount_remaining_cents keeps Stripe''s value); what an uncollectible invoice still lacked is amount_written_off. display_status is overdue for an open invoice past due_date with amount_remaining_cents > 0, else status. days_overdue = ${DAYS_RULE}, while overdue, else 0. pay_url only while open with money owed. recipient_email is where invoice emails go: the billing contact''s invoice_email, else customer_email, else the contact''s primary_email, the first valid one (finance_email_recipient).`;

const MONEY_COMMENT = `amount_refunded: the sum of amount_refunded of the invoice''s charges (finance_invoice_charges), pending refunds included, 0 while none is known. amount_credited: the total of its issued (not void) credit notes, pre- and post-payment; the pre-payment part is already out of amount_remaining, as Stripe computes it. net_collected = amount_paid - amount_refunded. receipt_url: the receipt of the latest succeeded charge of the invoice, null until one is known.`;

const AGING_COMMENT = `Open invoices with amount_remaining_cents > 0 (uncollectible excluded), summed by livemode, currency and bucket as of now(). Days past due = ${DAYS_RULE}: current = not yet due or no due date; 1-30; 31-60; 61-90; 90+ = 91 days and more. For a past moment: finance_receivables_aging_as_of(moment).`;

export const COMMENTS = [
  `COMMENT ON VIEW finance_invoices IS '${INVOICES_COMMENT} ${MONEY_COMMENT}'`,
  `COMMENT ON VIEW receivables_aging IS '${AGING_COMMENT} Pre-payment credit notes are not subtracted: Stripe''s amount_remaining already excludes them.'`,
  `COMMENT ON VIEW overdue_invoices IS 'finance_invoices with display_status = overdue, oldest due first.'`,
  `COMMENT ON VIEW finance_invoice_rows IS 'finance_invoices plus drafts; for listing drafts only.'`,
  `COMMENT ON VIEW finance_invoice_charges IS 'Each (invoice_id, charge_id) pair once: by the charge''s own invoice, or an invoice payment naming the charge or its payment intent.'`,
  `COMMENT ON VIEW finance_payments IS 'One row per invoice payment, newest by created_at (Stripe''s). invoice_number and customer_name are null until the invoice is known. charge_id: the charge the payment names, else its payment intent''s (the succeeded one, else the latest attempt); charge_status, payment_method_type, failure_code, receipt_url and amount_refunded come from it once it is known (amount_refunded 0 before). refund_count: its refunds that did not fail and were not canceled. amount_paid is 0 until paid.'`,
  `COMMENT ON VIEW finance_credit_notes IS 'One row per credit note. status issued or void; type pre_payment (lowered the amount due), post_payment (after payment: refund, customer balance or out of band) or mixed. total = pre_payment_amount + post_payment_amount; out_of_band_amount is the part of post_payment credited outside Stripe. invoice_number and customer_name are null until the invoice is known.'`,
];

// AdoptionFixes1764806400000's definitions, for down().
const PREVIOUS_INVOICE_ROWS = `
  CREATE VIEW finance_invoice_rows AS
  WITH i AS (
    SELECT inv.*,
           (inv.status = 'open' AND inv.due_date < now() AND inv.amount_remaining_cents > 0) AS is_overdue,
           CASE WHEN inv.status IN ('void', 'uncollectible') THEN 0 ELSE inv.amount_remaining_cents END AS owed_cents,
           CASE WHEN inv.status = 'uncollectible' THEN inv.amount_remaining_cents ELSE 0 END AS written_off_cents,
           bc.invoice_email AS contact_invoice_email,
           bc.primary_email AS contact_primary_email
      FROM invoices inv
      LEFT JOIN billing_contacts bc ON bc.stripe_customer_id = inv.stripe_customer_id
     WHERE inv.deleted_at IS NULL AND inv.currency IS NOT NULL
  )
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
         metadata
    FROM i`;

const PREVIOUS_COMMENTS = [
  `COMMENT ON VIEW finance_invoices IS '${INVOICES_COMMENT}'`,
  `COMMENT ON VIEW receivables_aging IS '${AGING_COMMENT}'`,
  `COMMENT ON VIEW overdue_invoices IS 'finance_invoices with display_status = overdue, oldest due first.'`,
  `COMMENT ON VIEW finance_invoice_rows IS 'finance_invoices plus drafts; for listing drafts only.'`,
];

const REBUILT_VIEWS = ['finance_invoice_rows', 'finance_invoices', 'receivables_aging', 'overdue_invoices'];
const NEW_VIEWS = ['finance_invoice_charges', 'finance_payments', 'finance_credit_notes'];
const dropRebuilt = [...REBUILT_VIEWS].reverse().map((v) => `DROP VIEW ${v}`);

/**
 * The role reads these through FinanceViews' default privileges; granting them explicitly as well
 * keeps them readable where an administrator set the role up by hand after that migration ran
 * (AdoptionFixes does the same). A database without the role is left as it is.
 */
export const grantSql = (role: string, relations: readonly string[]) => `
  DO $$
  BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
      ${relations.map((r) => `GRANT SELECT ON ${r} TO ${role};`).join('\n      ')}
    END IF;
  END $$`;

const MONEY_TABLES = ['invoice_payments', 'charges', 'refunds', 'credit_notes'];

export class MoneyFinanceViews1765200000000 implements MigrationInterface {
  name = 'MoneyFinanceViews1765200000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...dropRebuilt, INVOICE_CHARGES, INVOICE_ROWS, ...DEPENDENT_VIEWS, PAYMENTS, CREDIT_NOTES, ...COMMENTS]) await q.query(sql);
    await q.query(grantSql(READONLY_ROLE, [...REBUILT_VIEWS, ...NEW_VIEWS, ...MONEY_TABLES]));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of [`DROP VIEW finance_credit_notes`, `DROP VIEW finance_payments`, ...dropRebuilt, `DROP VIEW finance_invoice_charges`]) await q.query(sql);
    for (const sql of [PREVIOUS_INVOICE_ROWS, ...DEPENDENT_VIEWS, ...PREVIOUS_COMMENTS]) await q.query(sql);
    await q.query(grantSql(READONLY_ROLE, REBUILT_VIEWS));
  }
}
