import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Credit notes, one row per Stripe credit note, and the customer's own data on billing_contacts.
 *
 * credit_notes has no foreign key to invoices: Stripe delivers a credit note's events and its
 * invoice's in any order, so a credit note may be stored before its invoice is. `status` and `type`
 * hold what Stripe sent, unchecked, like invoices.status (OpenEndedInvoiceStatus1765000000000).
 *
 * billing_contacts keeps its operator-set columns (invoice_email from `billing contacts set`,
 * never written from Stripe); the new ones are what the customer's events last said.
 */
export class CreditNotesAndCustomers1765100001000 implements MigrationInterface {
  name = 'CreditNotesAndCustomers1765100001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credit_notes (
        id                         bigserial   PRIMARY KEY,
        stripe_credit_note_id      text        NOT NULL,
        stripe_invoice_id          text        NOT NULL,
        stripe_customer_id         text,
        number                     text,
        status                     text        NOT NULL,
        type                       text        NOT NULL,
        reason                     text,
        total_cents                bigint      NOT NULL,
        pre_payment_amount_cents   bigint      NOT NULL,
        post_payment_amount_cents  bigint      NOT NULL,
        out_of_band_amount_cents   bigint,
        currency                   text        NOT NULL
          CONSTRAINT credit_notes_currency_check CHECK (currency ~ '^[a-z]{3}$'),
        pdf_url                    text,
        created_at                 timestamptz NOT NULL,
        voided_at                  timestamptz,
        livemode                   boolean     NOT NULL,
        last_event_id              text        NOT NULL,
        last_event_created_at      timestamptz NOT NULL,
        updated_at                 timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT credit_notes_stripe_credit_note_id_key UNIQUE (stripe_credit_note_id)
      )`);
    await q.query(`CREATE INDEX credit_notes_invoice_idx ON credit_notes (stripe_invoice_id)`);
    await q.query(`COMMENT ON COLUMN credit_notes.created_at IS 'Stripe''s created: when the credit note was issued, not when this row was inserted'`);
    await q.query(`COMMENT ON COLUMN credit_notes.status IS 'issued or void, as Stripe sent it'`);
    await q.query(`COMMENT ON COLUMN credit_notes.type IS 'pre_payment, post_payment or mixed, as Stripe sent it'`);
    await q.query(
      `COMMENT ON COLUMN credit_notes.pre_payment_amount_cents IS 'part of total_cents that reduced the amount due; derived from type and total when Stripe did not send it'`,
    );
    await q.query(
      `COMMENT ON COLUMN credit_notes.post_payment_amount_cents IS 'part of total_cents credited after payment (refund, customer balance, out of band); derived from type and total when Stripe did not send it'`,
    );

    await q.query(`ALTER TABLE billing_contacts ADD COLUMN name text`);
    await q.query(`ALTER TABLE billing_contacts ADD COLUMN deleted_at timestamptz`);
    await q.query(`ALTER TABLE billing_contacts ADD COLUMN stripe_email text`);
    await q.query(`ALTER TABLE billing_contacts ADD COLUMN stripe_synced_at timestamptz`);
    await q.query(`ALTER TABLE billing_contacts ADD COLUMN last_event_id text`);
    await q.query(`COMMENT ON COLUMN billing_contacts.stripe_email IS 'the customer''s email as Stripe last sent it, valid or not'`);
    await q.query(
      `COMMENT ON COLUMN billing_contacts.stripe_synced_at IS 'created of the customer event whose state the row holds; null when no customer event was applied'`,
    );
  }

  /** The credit notes and the Stripe-only contact columns go; invoice_email and primary_email stay as they are. */
  async down(q: QueryRunner): Promise<void> {
    for (const column of ['last_event_id', 'stripe_synced_at', 'stripe_email', 'deleted_at', 'name']) {
      await q.query(`ALTER TABLE billing_contacts DROP COLUMN ${column}`);
    }
    await q.query(`DROP TABLE credit_notes`);
  }
}
