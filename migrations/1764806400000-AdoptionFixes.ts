import type { MigrationInterface, QueryRunner } from 'typeorm';
import { READONLY_ROLE } from './1764028800000-FinanceViews';

/**
 * What a first real use asked of the schema: when an event's message went to the dead-letter
 * queue, and finance views that read the way finance reads: nothing owed on a void invoice, a
 * written-off amount shown as such, days counted in UTC calendar days as the emails count them,
 * the address invoice emails go to, and aging as of a past moment.
 *
 * The views are dropped and created again (a view's columns cannot be changed in place); `down`
 * puts back the definitions of FinanceViews1764028800000, copied below as they were.
 */

// ECMAScript's WhiteSpace and LineTerminator, which String.prototype.trim removes: the mailer
// trims an address with it before checking it. As regex escapes, so the statement stays ASCII
// whatever the database encoding is.
const JS_TRIM_CLASS = String.raw`[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]`;
// zod 4's z.email() pattern, as src/mail/address.ts uses it (ASCII only); "-" last in a class
// instead of escaped. test/finance/recipient-in-sql.test.ts holds the two equal.
const ZOD_EMAIL = String.raw`^(?:[A-Za-z0-9_''+-]+\.)*[A-Za-z0-9_''+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$`;

const FUNCTIONS = [
  // UTC calendar days, the rule of src/billing/days.ts (the emails' count); held equal by
  // test/finance/days-in-sql.test.ts.
  `CREATE OR REPLACE FUNCTION finance_days_past_due(due timestamptz, as_of timestamptz) RETURNS integer
     LANGUAGE sql IMMUTABLE PARALLEL SAFE
     RETURN CASE WHEN due IS NULL OR due >= as_of THEN 0
                 ELSE greatest(1, (as_of AT TIME ZONE 'UTC')::date - (due AT TIME ZONE 'UTC')::date) END`,
  // src/mail/address.ts parseEmailAddress: a value with a line break is refused before trimming;
  // 254 characters at most, 64 before the @; the domain lowercased, the local part kept as is.
  // The regex needs no Unicode awareness: anything non-ASCII left after trimming fails it.
  `CREATE FUNCTION finance_email_address(raw text) RETURNS text
     LANGUAGE sql IMMUTABLE PARALLEL SAFE
     RETURN (
       SELECT CASE WHEN length(t) <= 254 AND strpos(t, '@') <= 65 AND t COLLATE "C" ~ '${ZOD_EMAIL}'
                   THEN left(t, strpos(t, '@')) || lower(substr(t, strpos(t, '@') + 1) COLLATE "C") END
         FROM (SELECT regexp_replace(raw, '^${JS_TRIM_CLASS}+|${JS_TRIM_CLASS}+$', '', 'g') AS t) trimmed
        WHERE strpos(raw, chr(10)) = 0 AND strpos(raw, chr(13)) = 0
     )`,
  // src/mail/delivery.ts chooseRecipient: the first valid address of the three, in this order.
  `CREATE FUNCTION finance_email_recipient(invoice_email text, customer_email text, primary_email text) RETURNS text
     LANGUAGE sql IMMUTABLE PARALLEL SAFE
     RETURN coalesce(finance_email_address(invoice_email), finance_email_address(customer_email), finance_email_address(primary_email))`,
  // Open at a moment: finalized by then, and not yet paid, voided or marked uncollectible (a
  // settled status whose moment is missing cannot be placed, so it is left out). What was owed
  // then: payments carry no date here except the one that settled an invoice (paid_at), so an
  // invoice paid later owed its whole amount due, and any other owed what it still owes (or owed
  // when voided or written off): a part-payment made after the moment is counted as made before.
  `CREATE FUNCTION finance_open_invoices_as_of(as_of timestamptz)
     RETURNS TABLE (invoice_id text, customer_id text, customer_name text, number text, status text, livemode boolean,
                    currency text, due_date timestamptz, days_past_due integer, bucket text,
                    amount_due_cents bigint, open_amount_cents bigint, open_amount numeric)
     LANGUAGE sql STABLE PARALLEL SAFE
   BEGIN ATOMIC
     SELECT o.stripe_invoice_id, o.stripe_customer_id, o.customer_name, o.number, o.status, o.livemode,
            o.currency, o.due_date, finance_days_past_due(o.due_date, as_of),
            finance_aging_bucket(finance_days_past_due(o.due_date, as_of)),
            o.amount_cents, o.owed, finance_major_units(o.owed, o.currency)
       FROM (SELECT i.*, CASE WHEN i.status = 'paid' THEN i.amount_cents ELSE i.amount_remaining_cents END AS owed
               FROM invoices i
              WHERE i.deleted_at IS NULL AND i.currency IS NOT NULL AND i.status <> 'draft'
                AND i.finalized_at <= as_of
                AND (i.paid_at IS NULL OR i.paid_at > as_of)
                AND (i.voided_at IS NULL OR i.voided_at > as_of)
                AND (i.marked_uncollectible_at IS NULL OR i.marked_uncollectible_at > as_of)
                AND (i.status <> 'paid' OR i.paid_at IS NOT NULL)
                AND (i.status <> 'void' OR i.voided_at IS NOT NULL)
                AND (i.status <> 'uncollectible' OR i.marked_uncollectible_at IS NOT NULL)) o
      WHERE o.owed > 0;
   END`,
  // receivables_aging's shape (every bucket of every currency with money owed, zeros included).
  `CREATE FUNCTION finance_receivables_aging_as_of(as_of timestamptz)
     RETURNS TABLE (livemode boolean, currency text, bucket text, bucket_order integer,
                    invoice_count integer, open_amount_cents bigint, open_amount numeric)
     LANGUAGE sql STABLE PARALLEL SAFE
   BEGIN ATOMIC
     WITH buckets(bucket, bucket_order) AS (
       VALUES ('current', 1), ('1-30', 2), ('31-60', 3), ('61-90', 4), ('90+', 5)
     ), open_items AS (
       SELECT o.livemode, o.currency, o.bucket, o.open_amount_cents FROM finance_open_invoices_as_of(as_of) o
     ), currencies AS (
       SELECT DISTINCT oi.livemode, oi.currency FROM open_items oi
     )
     SELECT c.livemode, c.currency, b.bucket, b.bucket_order,
            count(o.open_amount_cents)::integer,
            coalesce(sum(o.open_amount_cents), 0)::bigint,
            finance_major_units(coalesce(sum(o.open_amount_cents), 0)::bigint, c.currency)
       FROM currencies c
      CROSS JOIN buckets b
       LEFT JOIN open_items o ON o.livemode = c.livemode AND o.currency = c.currency AND o.bucket = b.bucket
      GROUP BY c.livemode, c.currency, b.bucket, b.bucket_order
      ORDER BY c.livemode DESC, c.currency, b.bucket_order;
   END`,
];

// Stripe keeps amount_remaining on a void or uncollectible invoice; invoices keeps mirroring it,
// and these views say what finance means: nothing is owed on either, and what an uncollectible
// invoice still lacked is written off. New columns go last, so a spreadsheet that reads the
// CSV by column position keeps working.
const INVOICE_ROWS = `
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

/** receivables_aging and overdue_invoices read finance_invoices, so they go and come back with it. */
const DEPENDENT_VIEWS = [
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

const COMMENTS = [
  `COMMENT ON VIEW finance_invoices IS 'One row per finalized invoice (no drafts, no deleted). Amounts in minor units (*_cents) and major units (numeric, Stripe''s currency exponent). amount_remaining is what is owed: 0 on a void or uncollectible invoice (invoices.amount_remaining_cents keeps Stripe''s value); what an uncollectible invoice still lacked is amount_written_off. display_status is overdue for an open invoice past due_date with amount_remaining_cents > 0, else status. days_overdue = ${DAYS_RULE}, while overdue, else 0. pay_url only while open with money owed. recipient_email is where invoice emails go: the billing contact''s invoice_email, else customer_email, else the contact''s primary_email, the first valid one (finance_email_recipient).'`,
  `COMMENT ON VIEW receivables_aging IS 'Open invoices with amount_remaining_cents > 0 (uncollectible excluded), summed by livemode, currency and bucket as of now(). Days past due = ${DAYS_RULE}: current = not yet due or no due date; 1-30; 31-60; 61-90; 90+ = 91 days and more. For a past moment: finance_receivables_aging_as_of(moment).'`,
  `COMMENT ON VIEW overdue_invoices IS 'finance_invoices with display_status = overdue, oldest due first.'`,
  `COMMENT ON VIEW finance_invoice_rows IS 'finance_invoices plus drafts; for listing drafts only.'`,
  `COMMENT ON FUNCTION finance_days_past_due(timestamptz, timestamptz) IS '${DAYS_RULE} (also 0 for no due date). The rule of the invoice emails (src/billing/days.ts).'`,
  `COMMENT ON FUNCTION finance_email_address(text) IS 'The address trimmed, with its domain lowercased, when it is one valid bare address (the mailer''s check); else null.'`,
  `COMMENT ON FUNCTION finance_email_recipient(text, text, text) IS 'Where invoice emails go: the first valid of (billing contact invoice_email, invoice customer_email, billing contact primary_email), normalized; null when none is valid.'`,
  `COMMENT ON FUNCTION finance_open_invoices_as_of(timestamptz) IS 'Invoices open with money owed at the moment: finalized at or before it and not paid, voided or marked uncollectible by then (not deleted). open_amount_cents: the amount due if paid since (payments before paid_at have no date), else what is or was left when voided or written off (a part-payment made after the moment counts as made before). days_past_due and bucket as of the moment.'`,
  `COMMENT ON FUNCTION finance_receivables_aging_as_of(timestamptz) IS 'receivables_aging as of a moment, from finance_open_invoices_as_of: every bucket of every livemode and currency with money owed then, zeros included.'`,
];

// FinanceViews1764028800000's definitions, for down().
const PREVIOUS_DAYS_PAST_DUE = `CREATE OR REPLACE FUNCTION finance_days_past_due(due timestamptz, as_of timestamptz) RETURNS integer
     LANGUAGE sql IMMUTABLE PARALLEL SAFE
     RETURN CASE WHEN due IS NULL OR due >= as_of THEN 0
                 ELSE ceil(extract(epoch FROM as_of - due) / 86400)::integer END`;

const PREVIOUS_INVOICE_ROWS = `
  CREATE VIEW finance_invoice_rows AS
  WITH i AS (
    SELECT inv.*, (status = 'open' AND due_date < now() AND amount_remaining_cents > 0) AS is_overdue
      FROM invoices inv
     WHERE deleted_at IS NULL AND currency IS NOT NULL
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
         amount_remaining_cents,
         finance_major_units(amount_cents, currency) AS amount_due,
         finance_major_units(amount_paid_cents, currency) AS amount_paid,
         finance_major_units(amount_remaining_cents, currency) AS amount_remaining,
         currency,
         due_date,
         CASE WHEN is_overdue THEN finance_days_past_due(due_date, now()) ELSE 0 END AS days_overdue,
         CASE WHEN status = 'open' AND amount_remaining_cents > 0 THEN hosted_invoice_url END AS pay_url,
         invoice_pdf_url AS pdf_url,
         stripe_created_at AS created_at,
         finalized_at,
         paid_at,
         livemode
    FROM i`;

const PREVIOUS_COMMENTS = [
  `COMMENT ON VIEW finance_invoices IS 'One row per finalized invoice (no drafts, no deleted). Amounts in minor units (*_cents) and major units (numeric, Stripe''s currency exponent). display_status is overdue for an open invoice past due_date with amount_remaining_cents > 0, else status. days_overdue = ceil(seconds past due_date / 86400) while overdue, else 0. pay_url only while open with money owed.'`,
  `COMMENT ON VIEW receivables_aging IS 'Open invoices with amount_remaining_cents > 0 (uncollectible excluded), summed by livemode, currency and bucket as of now(). Days past due = ceil((now() - due_date) in seconds / 86400): current = not yet due or no due date; 1-30 = up to exactly 30 days late; 31-60; 61-90; 90+ = more than 90 days late.'`,
  `COMMENT ON VIEW overdue_invoices IS 'finance_invoices with display_status = overdue, oldest due first.'`,
  `COMMENT ON VIEW finance_invoice_rows IS 'finance_invoices plus drafts; for listing drafts only.'`,
  `COMMENT ON FUNCTION finance_days_past_due(timestamptz, timestamptz) IS 'ceil(seconds from due to as_of / 86400) when due < as_of, else 0 (also for no due date).'`,
];

const VIEW_NAMES = ['finance_invoice_rows', 'finance_invoices', 'receivables_aging', 'overdue_invoices'];
const dropViews = [...VIEW_NAMES].reverse().map((v) => `DROP VIEW ${v}`);

/**
 * Views created here are readable by the role through FinanceViews' default privileges; granting
 * them explicitly as well keeps them readable where an administrator set the role up by hand
 * after that migration ran. A database without the role is left as FinanceViews leaves it.
 */
const grantViewsSql = (role: string) => `
  DO $$
  BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
      ${VIEW_NAMES.map((v) => `GRANT SELECT ON ${v} TO ${role};`).join('\n      ')}
    END IF;
  END $$`;

export class AdoptionFixes1764806400000 implements MigrationInterface {
  name = 'AdoptionFixes1764806400000';

  async up(q: QueryRunner): Promise<void> {
    // Set by the consumer when a failing message has used its last receive: SQS moves it to the
    // DLQ instead of delivering it again. Kept after a replay, as the record that it happened.
    await q.query(`ALTER TABLE stripe_events ADD COLUMN dead_lettered_at timestamptz`);

    for (const sql of [...dropViews, ...FUNCTIONS, INVOICE_ROWS, ...DEPENDENT_VIEWS, ...COMMENTS]) await q.query(sql);
    await q.query(grantViewsSql(READONLY_ROLE));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of dropViews) await q.query(sql);
    for (const fn of ['finance_receivables_aging_as_of(timestamptz)', 'finance_open_invoices_as_of(timestamptz)', 'finance_email_recipient(text, text, text)', 'finance_email_address(text)']) {
      await q.query(`DROP FUNCTION ${fn}`);
    }
    for (const sql of [PREVIOUS_DAYS_PAST_DUE, PREVIOUS_INVOICE_ROWS, ...DEPENDENT_VIEWS, ...PREVIOUS_COMMENTS]) await q.query(sql);
    await q.query(grantViewsSql(READONLY_ROLE));

    await q.query(`ALTER TABLE stripe_events DROP COLUMN dead_lettered_at`);
  }
}
