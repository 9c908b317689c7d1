import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finance reads money and ageing straight from SQL, so the rules live in the database, next to
 * the rows, rather than in each report. Function bodies use the SQL-standard form (PostgreSQL 14+):
 * names are bound when the function is created, so a reader's search_path cannot change the
 * meaning, and the planner can still inline them.
 */

// Stripe's lists, which decide how its integer amounts scale; they must stay equal to
// src/mail/money.ts (test/finance/money-in-sql.test.ts compares every three-letter code).
const ZERO_DECIMAL = ['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'];
const THREE_DECIMAL = ['bhd', 'jod', 'kwd', 'omr', 'tnd'];
const list = (codes: string[]) => codes.map((c) => `'${c}'`).join(', ');

const FUNCTIONS = [
  `CREATE FUNCTION finance_minor_unit_digits(currency text) RETURNS integer
     LANGUAGE sql IMMUTABLE PARALLEL SAFE
     RETURN CASE WHEN lower(currency) IN (${list(ZERO_DECIMAL)}) THEN 0
                 WHEN lower(currency) IN (${list(THREE_DECIMAL)}) THEN 3
                 ELSE 2 END`,
  // round() to the currency's digits gives exact values with a fixed scale: 10.00 USD, 1000 JPY.
  `CREATE FUNCTION finance_major_units(minor bigint, currency text) RETURNS numeric
     LANGUAGE sql IMMUTABLE PARALLEL SAFE
     RETURN round(minor::numeric / (10::numeric ^ finance_minor_unit_digits(currency)), finance_minor_unit_digits(currency))`,
  // Whole days, rounded up: one second late is day 1, exactly 30 × 86400 s late is still day 30.
  // The moment is a parameter so the boundaries can be tested exactly, without waiting for now().
  `CREATE FUNCTION finance_days_past_due(due timestamptz, as_of timestamptz) RETURNS integer
     LANGUAGE sql IMMUTABLE PARALLEL SAFE
     RETURN CASE WHEN due IS NULL OR due >= as_of THEN 0
                 ELSE ceil(extract(epoch FROM as_of - due) / 86400)::integer END`,
  `CREATE FUNCTION finance_aging_bucket(days_past_due integer) RETURNS text
     LANGUAGE sql IMMUTABLE PARALLEL SAFE
     RETURN CASE WHEN days_past_due <= 0 THEN 'current'
                 WHEN days_past_due <= 30 THEN '1-30'
                 WHEN days_past_due <= 60 THEN '31-60'
                 WHEN days_past_due <= 90 THEN '61-90'
                 ELSE '90+' END`,
];

// Drafts are kept here (not in finance_invoices) only so `billing invoices --status draft` can
// show them with the same columns. Deletion stubs (no currency) carry no money and are left out.
const INVOICE_ROWS = `
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

const VIEWS = [
  INVOICE_ROWS,
  `CREATE VIEW finance_invoices AS SELECT * FROM finance_invoice_rows WHERE status <> 'draft'`,
  // Every bucket of every currency with money owed, zeros included, so a report has a fixed shape.
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

const COMMENTS = [
  `COMMENT ON VIEW finance_invoices IS 'One row per finalized invoice (no drafts, no deleted). Amounts in minor units (*_cents) and major units (numeric, Stripe''s currency exponent). display_status is overdue for an open invoice past due_date with amount_remaining_cents > 0, else status. days_overdue = ceil(seconds past due_date / 86400) while overdue, else 0. pay_url only while open with money owed.'`,
  `COMMENT ON VIEW receivables_aging IS 'Open invoices with amount_remaining_cents > 0 (uncollectible excluded), summed by livemode, currency and bucket as of now(). Days past due = ceil((now() - due_date) in seconds / 86400): current = not yet due or no due date; 1-30 = up to exactly 30 days late; 31-60; 61-90; 90+ = more than 90 days late.'`,
  `COMMENT ON VIEW overdue_invoices IS 'finance_invoices with display_status = overdue, oldest due first.'`,
  `COMMENT ON VIEW finance_invoice_rows IS 'finance_invoices plus drafts; for listing drafts only.'`,
  `COMMENT ON FUNCTION finance_minor_unit_digits(text) IS 'Decimal digits of one major unit in Stripe amounts: 0 (zero-decimal, e.g. jpy), 3 (bhd, jod, kwd, omr, tnd) or 2.'`,
  `COMMENT ON FUNCTION finance_days_past_due(timestamptz, timestamptz) IS 'ceil(seconds from due to as_of / 86400) when due < as_of, else 0 (also for no due date).'`,
  `COMMENT ON FUNCTION finance_aging_bucket(integer) IS 'current (0 days), 1-30, 31-60, 61-90 or 90+ (91 days and more).'`,
];

// The name is spliced into SQL (DDL takes no parameters), so only plain identifiers pass.
function assertRoleName(role: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`not a plain role name: ${role}`);
}

/**
 * Grants read access to `role`, creating it when the migrating user may. Roles are cluster-wide
 * and several databases (tests run in parallel, or many environments on one server) may migrate
 * at once, so losing the race to create it is fine: the winner's role is as good as ours. Without
 * the right to create it, the migration carries on; an administrator creates it (README).
 */
export function readonlyRoleSql(role: string): string {
  assertRoleName(role);
  return `
  DO $$
  DECLARE
    schema_name text := current_schema();
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
      IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
        RAISE NOTICE 'role ${role} does not exist and % may not create roles; an administrator can run: CREATE ROLE ${role} NOLOGIN; GRANT USAGE ON SCHEMA % TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA % TO ${role};', current_user, schema_name, schema_name;
        RETURN;
      END IF;
      BEGIN
        CREATE ROLE ${role} NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- another database's migration created it between our check and our insert
      END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${role}', schema_name);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO ${role}', schema_name);
    -- Tables and views that later migrations create stay readable without another grant.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO ${role}', schema_name);
  END $$`;
}

/** Undoes the grants in this database only: other databases on the server may still use the role. */
export function revokeReadonlySql(role: string): string {
  assertRoleName(role);
  return `
  DO $$
  DECLARE
    schema_name text := current_schema();
  BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
      EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE SELECT ON TABLES FROM ${role}', schema_name);
      EXECUTE format('REVOKE SELECT ON ALL TABLES IN SCHEMA %I FROM ${role}', schema_name);
      EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM ${role}', schema_name);
    END IF;
  END $$`;
}

export const READONLY_ROLE = 'billing_readonly';

export class FinanceViews1764028800000 implements MigrationInterface {
  name = 'FinanceViews1764028800000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [...FUNCTIONS, ...VIEWS, ...COMMENTS]) await q.query(sql);
    await q.query(readonlyRoleSql(READONLY_ROLE));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(revokeReadonlySql(READONLY_ROLE));
    for (const view of ['overdue_invoices', 'receivables_aging', 'finance_invoices', 'finance_invoice_rows']) {
      await q.query(`DROP VIEW ${view}`);
    }
    for (const fn of ['finance_aging_bucket(integer)', 'finance_days_past_due(timestamptz, timestamptz)', 'finance_major_units(bigint, text)', 'finance_minor_unit_digits(text)']) {
      await q.query(`DROP FUNCTION ${fn}`);
    }
  }
}
