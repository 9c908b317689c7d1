import type { MigrationInterface, QueryRunner } from 'typeorm';

export class EmailNotices1763942400000 implements MigrationInterface {
  name = 'EmailNotices1763942400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE email_notices (
        id                bigserial   PRIMARY KEY,
        stripe_invoice_id text        NOT NULL,
        kind              text        NOT NULL
          CONSTRAINT email_notices_kind_check CHECK (kind IN ('invoice_issued', 'payment_failed', 'invoice_paid', 'due_soon', 'overdue', 'overdue_reminder', 'invoice_voided')),
        sequence          integer     NOT NULL DEFAULT 0,
        recipient         text,
        status            text        NOT NULL DEFAULT 'pending'
          CONSTRAINT email_notices_status_check CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
        attempts          integer     NOT NULL DEFAULT 0,
        next_attempt_at   timestamptz NOT NULL DEFAULT now(),
        last_error        text,
        message_id        text,
        created_at        timestamptz NOT NULL DEFAULT now(),
        sent_at           timestamptz,
        updated_at        timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT email_notices_once UNIQUE (stripe_invoice_id, kind, sequence)
      )`);
    // The mailer's claim query: only pending notices, oldest due first.
    await q.query(`CREATE INDEX email_notices_pending_idx ON email_notices (next_attempt_at, id) WHERE status = 'pending'`);

    await q.query(`
      CREATE TABLE billing_contacts (
        stripe_customer_id text        PRIMARY KEY,
        invoice_email      text,
        primary_email      text,
        updated_at         timestamptz NOT NULL DEFAULT now()
      )`);

    // When the sweep must next look at an invoice for a dunning reminder; null when never again.
    await q.query(`ALTER TABLE invoices ADD COLUMN next_dunning_at timestamptz`);
    await q.query(`CREATE INDEX invoices_next_dunning_idx ON invoices (next_dunning_at) WHERE next_dunning_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX invoices_next_dunning_idx`);
    await q.query(`ALTER TABLE invoices DROP COLUMN next_dunning_at`);
    await q.query(`DROP TABLE billing_contacts`);
    await q.query(`DROP TABLE email_notices`);
  }
}
