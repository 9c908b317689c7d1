import type { MigrationInterface, QueryRunner } from 'typeorm';
import { READONLY_ROLE } from './1764028800000-FinanceViews';
import { grantSql } from './1765200000000-MoneyFinanceViews';

/**
 * The prepaid wallets' ledger: one row per movement that paying (or refunding) an invoice makes
 * to a customer's wallet, written by the invoice's effects in the transaction that merged it.
 *
 * Entries are facts: the table refuses UPDATE, DELETE and TRUNCATE for every user, its owner and
 * the migrating user included (triggers, which apply to them all); a correction is a new entry.
 * `natural_key` names what an entry is the effect of (`topup_credit:in_…`, `refund_reversal:re_…`),
 * so that a duplicate event, a replay, reconcile or import can never write an entry twice.
 * Every insert is announced on the channel `wallet_ledger` with the entry's id, delivered when the
 * transaction that wrote it commits.
 */
const TABLE = `
  CREATE TABLE wallet_ledger (
    id                   bigserial   PRIMARY KEY,
    stripe_customer_id   text,
    stripe_account_id    text,
    currency             text        NOT NULL
      CONSTRAINT wallet_ledger_currency_check CHECK (currency ~ '^[a-z]{3}$'),
    entry_type           text        NOT NULL
      CONSTRAINT wallet_ledger_entry_type_check CHECK (entry_type IN ('topup_credit', 'overage_settled', 'manual_credit', 'refund_reversal', 'refund_failed')),
    amount_cents         bigint      NOT NULL,
    debt_settled_cents   bigint      NOT NULL,
    stripe_invoice_id    text        NOT NULL,
    stripe_charge_id     text,
    stripe_refund_id     text,
    reason               text,
    source_event_id      text        NOT NULL,
    natural_key          text        NOT NULL,
    livemode             boolean     NOT NULL,
    occurred_at          timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wallet_ledger_natural_key_key UNIQUE (natural_key)
  )`;

const INDEXES = [
  `CREATE INDEX wallet_ledger_customer_idx ON wallet_ledger (stripe_customer_id, stripe_account_id, currency)`,
  `CREATE INDEX wallet_ledger_invoice_idx ON wallet_ledger (stripe_invoice_id)`,
];

const IMMUTABLE = [
  `CREATE FUNCTION wallet_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     RAISE EXCEPTION 'wallet_ledger entries are immutable: % is refused; record a correcting entry instead', TG_OP
       USING ERRCODE = 'restrict_violation';
   END $$`,
  `CREATE TRIGGER wallet_ledger_immutable BEFORE UPDATE OR DELETE ON wallet_ledger FOR EACH ROW EXECUTE FUNCTION wallet_ledger_refuse_change()`,
  `CREATE TRIGGER wallet_ledger_no_truncate BEFORE TRUNCATE ON wallet_ledger FOR EACH STATEMENT EXECUTE FUNCTION wallet_ledger_refuse_change()`,
  `CREATE FUNCTION wallet_ledger_announce() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_notify('wallet_ledger', NEW.id::text);
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER wallet_ledger_notify AFTER INSERT ON wallet_ledger FOR EACH ROW EXECUTE FUNCTION wallet_ledger_announce()`,
];

/**
 * Balances per customer, account, currency and mode: the sum of the entries, and what the
 * customer owes on open invoices (any reason, overage included). A customer who owes but never
 * had an entry has a row too, with balance 0 and no last_entry_at. The join keys are coalesced
 * because a FULL JOIN needs an equality, and the platform's own rows have no account.
 */
const BALANCES = `
  CREATE VIEW wallet_balances AS
  WITH entries AS (
    SELECT stripe_customer_id, stripe_account_id, currency, livemode,
           sum(amount_cents)::bigint AS balance_cents, count(*)::integer AS entries, max(created_at) AS last_entry_at
      FROM wallet_ledger
     GROUP BY stripe_customer_id, stripe_account_id, currency, livemode
  ), owed AS (
    SELECT stripe_customer_id, stripe_account_id, currency, livemode,
           sum(amount_remaining_cents)::bigint AS owed_cents, count(*)::integer AS open_invoices
      FROM invoices
     WHERE status = 'open' AND deleted_at IS NULL AND amount_remaining_cents > 0 AND currency IS NOT NULL
     GROUP BY stripe_customer_id, stripe_account_id, currency, livemode
  )
  SELECT coalesce(e.stripe_customer_id, o.stripe_customer_id) AS customer_id,
         coalesce(e.stripe_account_id, o.stripe_account_id) AS stripe_account_id,
         coalesce(e.currency, o.currency) AS currency,
         coalesce(e.livemode, o.livemode) AS livemode,
         coalesce(e.balance_cents, 0)::bigint AS balance_cents,
         finance_major_units(coalesce(e.balance_cents, 0)::bigint, coalesce(e.currency, o.currency)) AS balance,
         coalesce(o.owed_cents, 0)::bigint AS owed_cents,
         finance_major_units(coalesce(o.owed_cents, 0)::bigint, coalesce(e.currency, o.currency)) AS owed,
         coalesce(o.open_invoices, 0) AS open_invoices,
         coalesce(e.entries, 0) AS entries,
         e.last_entry_at
    FROM entries e
    FULL JOIN owed o
      ON coalesce(o.stripe_customer_id, '') = coalesce(e.stripe_customer_id, '')
     AND coalesce(o.stripe_account_id, '') = coalesce(e.stripe_account_id, '')
     AND o.currency = e.currency
     AND o.livemode = e.livemode`;

const LEDGER_VIEW = `
  CREATE VIEW finance_wallet_ledger AS
  SELECT w.id AS entry_id,
         w.stripe_customer_id AS customer_id,
         w.stripe_account_id,
         w.currency,
         w.entry_type,
         w.amount_cents,
         finance_major_units(w.amount_cents, w.currency) AS amount,
         w.debt_settled_cents,
         finance_major_units(w.debt_settled_cents, w.currency) AS debt_settled,
         w.stripe_invoice_id AS invoice_id,
         i.number AS invoice_number,
         coalesce(w.stripe_charge_id,
                  (SELECT c.stripe_charge_id FROM charges c
                    WHERE c.stripe_invoice_id = w.stripe_invoice_id AND c.status = 'succeeded'
                    ORDER BY c.created_at DESC, c.stripe_charge_id DESC LIMIT 1)) AS charge_id,
         w.stripe_refund_id AS refund_id,
         w.reason,
         w.source_event_id,
         w.livemode,
         w.occurred_at,
         w.created_at
    FROM wallet_ledger w
    LEFT JOIN invoices i ON i.stripe_invoice_id = w.stripe_invoice_id`;

const COMMENTS = [
  `COMMENT ON TABLE wallet_ledger IS 'Immutable entries of what paying or refunding an invoice did to a prepaid wallet (metadata.reason of the invoice). UPDATE, DELETE and TRUNCATE are refused; corrections are new entries. Each insert is announced with NOTIFY wallet_ledger, payload the entry id.'`,
  `COMMENT ON COLUMN wallet_ledger.amount_cents IS 'signed, in the currency''s minor units: positive credits the wallet, negative debits it; 0 for overage_settled'`,
  `COMMENT ON COLUMN wallet_ledger.debt_settled_cents IS 'overage_settled: the amount paid that settled the debt (the wallet is not credited); 0 otherwise'`,
  `COMMENT ON COLUMN wallet_ledger.reason IS 'metadata.reason of the invoice the entry is the effect of (topup_failed, overage, manual)'`,
  `COMMENT ON COLUMN wallet_ledger.natural_key IS 'what the entry is the effect of: <entry_type>:<invoice id>, or <entry_type>:<refund id> for refund entries; unique, so no entry is written twice'`,
  `COMMENT ON COLUMN wallet_ledger.source_event_id IS 'the Stripe event whose change wrote the entry; api_… for a read of Stripe''s API (import, reconcile)'`,
  `COMMENT ON COLUMN wallet_ledger.occurred_at IS 'when the payment or refund happened at Stripe (the invoice''s paid_at, the refund''s created), when known'`,
  `COMMENT ON COLUMN wallet_ledger.created_at IS 'when the entry was written'`,
  `COMMENT ON VIEW wallet_balances IS 'Per customer, connected account, currency and mode: balance_cents (sum of wallet_ledger entries), owed_cents (amount_remaining of open invoices, any reason), last_entry_at (null: no entries).'`,
  `COMMENT ON VIEW finance_wallet_ledger IS 'wallet_ledger entries with the invoice number and amounts in major units. charge_id: the refunded charge of a refund entry; for a payment entry, the invoice''s latest succeeded charge once known (null when paid out of band).'`,
  `COMMENT ON COLUMN wallet_ledger.stripe_charge_id IS 'refund entries: the refunded charge; null on payment entries, whose charge may arrive after them (finance_wallet_ledger.charge_id shows it)'`,
];

export class WalletLedger1765600000000 implements MigrationInterface {
  name = 'WalletLedger1765600000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [TABLE, ...INDEXES, ...IMMUTABLE, BALANCES, LEDGER_VIEW, ...COMMENTS]) await q.query(sql);
    await q.query(grantSql(READONLY_ROLE, ['wallet_ledger', 'wallet_balances', 'finance_wallet_ledger']));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of [
      `DROP VIEW finance_wallet_ledger`,
      `DROP VIEW wallet_balances`,
      `DROP TABLE wallet_ledger`,
      `DROP FUNCTION wallet_ledger_announce()`,
      `DROP FUNCTION wallet_ledger_refuse_change()`,
    ]) {
      await q.query(sql);
    }
  }
}
