import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Unlike the invoices table's, created_at here is Stripe's own time of the object; finance dates payments by it. */
const STRIPE_CREATED_COMMENT = 'when the object was created at Stripe (its created), not when this row was inserted';

/**
 * The money behind invoices: InvoicePayments, Charges and Refunds, one row per Stripe object.
 * No foreign keys, between these tables or to invoices: Stripe sends the objects in any order, so a
 * row may name an invoice or a charge that arrives later; joins link them once both are here.
 * Statuses are stored as Stripe sent them (no CHECK), as invoices.status is, so a status Stripe
 * adds later is kept rather than refused.
 */
export class PaymentTables1765100000000 implements MigrationInterface {
  name = 'PaymentTables1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE invoice_payments (
        id                         bigserial   PRIMARY KEY,
        stripe_invoice_payment_id  text        NOT NULL,
        stripe_invoice_id          text        NOT NULL,
        stripe_payment_intent_id   text,
        stripe_charge_id           text,
        status                     text        NOT NULL,
        amount_cents               bigint      NOT NULL,
        amount_requested_cents     bigint      NOT NULL,
        currency                   text        NOT NULL
          CONSTRAINT invoice_payments_currency_check CHECK (currency ~ '^[a-z]{3}$'),
        is_default                 boolean     NOT NULL,
        paid_at                    timestamptz,
        canceled_at                timestamptz,
        created_at                 timestamptz NOT NULL,
        livemode                   boolean     NOT NULL,
        last_event_id              text        NOT NULL,
        last_event_created_at      timestamptz NOT NULL,
        updated_at                 timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT invoice_payments_stripe_invoice_payment_id_key UNIQUE (stripe_invoice_payment_id)
      )`);
    await q.query(`CREATE INDEX invoice_payments_invoice_idx ON invoice_payments (stripe_invoice_id)`);
    await q.query(`CREATE INDEX invoice_payments_payment_intent_idx ON invoice_payments (stripe_payment_intent_id)`);
    await q.query(`CREATE INDEX invoice_payments_charge_idx ON invoice_payments (stripe_charge_id)`);
    await q.query(`COMMENT ON COLUMN invoice_payments.amount_cents IS 'amount_paid in the smallest currency unit; 0 until paid'`);
    await q.query(`COMMENT ON COLUMN invoice_payments.created_at IS '${STRIPE_CREATED_COMMENT}'`);

    await q.query(`
      CREATE TABLE charges (
        id                        bigserial   PRIMARY KEY,
        stripe_charge_id          text        NOT NULL,
        stripe_payment_intent_id  text,
        stripe_invoice_id         text,
        stripe_customer_id        text,
        status                    text        NOT NULL,
        amount_cents              bigint      NOT NULL,
        amount_captured_cents     bigint      NOT NULL,
        amount_refunded_cents     bigint      NOT NULL,
        refunded                  boolean     NOT NULL,
        currency                  text        NOT NULL
          CONSTRAINT charges_currency_check CHECK (currency ~ '^[a-z]{3}$'),
        receipt_url               text,
        payment_method_type       text,
        failure_code              text,
        created_at                timestamptz NOT NULL,
        livemode                  boolean     NOT NULL,
        last_event_id             text        NOT NULL,
        last_event_created_at     timestamptz NOT NULL,
        updated_at                timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT charges_stripe_charge_id_key UNIQUE (stripe_charge_id)
      )`);
    await q.query(`CREATE INDEX charges_payment_intent_idx ON charges (stripe_payment_intent_id)`);
    await q.query(`CREATE INDEX charges_invoice_idx ON charges (stripe_invoice_id)`);
    await q.query(`COMMENT ON COLUMN charges.stripe_invoice_id IS 'the charge''s own invoice field (API versions before 2025-03-31), else linked through its invoice payment'`);
    await q.query(`COMMENT ON COLUMN charges.created_at IS '${STRIPE_CREATED_COMMENT}'`);

    await q.query(`
      CREATE TABLE refunds (
        id                        bigserial   PRIMARY KEY,
        stripe_refund_id          text        NOT NULL,
        stripe_charge_id          text,
        stripe_payment_intent_id  text,
        amount_cents              bigint      NOT NULL,
        currency                  text        NOT NULL
          CONSTRAINT refunds_currency_check CHECK (currency ~ '^[a-z]{3}$'),
        status                    text,
        reason                    text,
        failure_reason            text,
        created_at                timestamptz NOT NULL,
        livemode                  boolean     NOT NULL,
        last_event_id             text        NOT NULL,
        last_event_created_at     timestamptz NOT NULL,
        updated_at                timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT refunds_stripe_refund_id_key UNIQUE (stripe_refund_id)
      )`);
    await q.query(`CREATE INDEX refunds_charge_idx ON refunds (stripe_charge_id)`);
    await q.query(`CREATE INDEX refunds_payment_intent_idx ON refunds (stripe_payment_intent_id)`);
    await q.query(`COMMENT ON COLUMN refunds.livemode IS 'the livemode of the event that carried the refund (a refund object has none)'`);
    await q.query(`COMMENT ON COLUMN refunds.created_at IS '${STRIPE_CREATED_COMMENT}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE refunds`);
    await q.query(`DROP TABLE charges`);
    await q.query(`DROP TABLE invoice_payments`);
  }
}
