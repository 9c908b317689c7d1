import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InvoicesAndEvents1763856000000 implements MigrationInterface {
  name = 'InvoicesAndEvents1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE invoices (
        id                      bigserial PRIMARY KEY,
        stripe_invoice_id       text        NOT NULL,
        stripe_customer_id      text,
        customer_email          text,
        customer_name           text,
        number                  text,
        status                  text        NOT NULL
          CONSTRAINT invoices_status_check CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
        overdue                 boolean     NOT NULL DEFAULT false,
        amount_cents            bigint      NOT NULL,
        amount_paid_cents       bigint      NOT NULL,
        amount_remaining_cents  bigint      NOT NULL,
        total_cents             bigint      NOT NULL,
        currency                text
          CONSTRAINT invoices_currency_check CHECK (currency ~ '^[a-z]{3}$'),
        due_date                timestamptz,
        collection_method       text,
        billing_reason          text,
        hosted_invoice_url      text,
        invoice_pdf_url         text,
        livemode                boolean     NOT NULL,
        metadata                jsonb       NOT NULL DEFAULT '{}'::jsonb,
        attempt_count           integer     NOT NULL DEFAULT 0,
        stripe_created_at       timestamptz,
        finalized_at            timestamptz,
        paid_at                 timestamptz,
        voided_at               timestamptz,
        marked_uncollectible_at timestamptz,
        deleted_at              timestamptz,
        last_event_id           text        NOT NULL,
        last_event_created_at   timestamptz NOT NULL,
        created_at              timestamptz NOT NULL DEFAULT now(),
        updated_at              timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT invoices_stripe_invoice_id_key UNIQUE (stripe_invoice_id)
      )`);
    // The sweep visits only open invoices with a due date; keep that a small index scan at any size.
    await q.query(`CREATE INDEX invoices_open_due_idx ON invoices (due_date) WHERE status = 'open' AND due_date IS NOT NULL`);
    await q.query(`CREATE INDEX invoices_customer_idx ON invoices (stripe_customer_id)`);
    await q.query(`COMMENT ON COLUMN invoices.amount_cents IS 'amount_due in the smallest currency unit'`);
    await q.query(`COMMENT ON COLUMN invoices.overdue IS 'open, past due_date and amount_remaining_cents > 0'`);

    await q.query(`
      CREATE TABLE stripe_events (
        id                text        PRIMARY KEY,
        type              text        NOT NULL,
        stripe_invoice_id text,
        created           timestamptz NOT NULL,
        livemode          boolean     NOT NULL,
        api_version       text,
        payload           jsonb       NOT NULL,
        received_at       timestamptz NOT NULL DEFAULT now(),
        processed_at      timestamptz,
        attempts          integer     NOT NULL DEFAULT 0,
        last_error        text
      )`);
    await q.query(`CREATE INDEX stripe_events_invoice_idx ON stripe_events (stripe_invoice_id, created)`);
    await q.query(`CREATE INDEX stripe_events_unprocessed_idx ON stripe_events (received_at) WHERE processed_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE stripe_events`);
    await q.query(`DROP TABLE invoices`);
  }
}
