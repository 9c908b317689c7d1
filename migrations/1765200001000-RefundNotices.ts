import type { MigrationInterface, QueryRunner } from 'typeorm';

const KINDS_BEFORE = `'invoice_issued', 'payment_failed', 'invoice_paid', 'due_soon', 'overdue', 'overdue_reminder', 'invoice_voided'`;

/**
 * The refund_issued notice. An invoice may have several refunds, so a notice is now unique per
 * (invoice, kind, sequence, subject): the subject names what a refund notice is about (a refund,
 * or a charge and the level its amount_refunded rose to; see src/billing/notice-refunds.ts) and is
 * empty for the notices about the invoice itself, which keep their old key. amount_cents is what a
 * refund notice tells was refunded, fixed when it is queued.
 */
export class RefundNotices1765200001000 implements MigrationInterface {
  name = 'RefundNotices1765200001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE email_notices ADD COLUMN subject text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE email_notices ADD COLUMN amount_cents bigint`);
    await q.query(`ALTER TABLE email_notices DROP CONSTRAINT email_notices_once`);
    await q.query(`ALTER TABLE email_notices ADD CONSTRAINT email_notices_once UNIQUE (stripe_invoice_id, kind, sequence, subject)`);
    await q.query(`ALTER TABLE email_notices DROP CONSTRAINT email_notices_kind_check`);
    await q.query(`ALTER TABLE email_notices ADD CONSTRAINT email_notices_kind_check CHECK (kind IN (${KINDS_BEFORE}, 'refund_issued'))`);
    // A refund notice without its subject would collide with the next one of its invoice.
    await q.query(`ALTER TABLE email_notices ADD CONSTRAINT email_notices_subject_check CHECK ((kind = 'refund_issued') = (subject <> ''))`);
    await q.query(
      `COMMENT ON COLUMN email_notices.subject IS 'what a refund notice is about: refund:<refund id>, or charge:<charge id>:<amount_refunded it rose to>; empty for notices about the invoice itself'`,
    );
    await q.query(`COMMENT ON COLUMN email_notices.amount_cents IS 'the amount a refund notice tells was refunded, in the charge''s currency; null for other kinds'`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The old key cannot hold two refund notices of one invoice, nor the old check any.
    await q.query(`DELETE FROM email_notices WHERE kind = 'refund_issued'`);
    await q.query(`ALTER TABLE email_notices DROP CONSTRAINT email_notices_subject_check`);
    await q.query(`ALTER TABLE email_notices DROP CONSTRAINT email_notices_kind_check`);
    await q.query(`ALTER TABLE email_notices ADD CONSTRAINT email_notices_kind_check CHECK (kind IN (${KINDS_BEFORE}))`);
    await q.query(`ALTER TABLE email_notices DROP CONSTRAINT email_notices_once`);
    await q.query(`ALTER TABLE email_notices ADD CONSTRAINT email_notices_once UNIQUE (stripe_invoice_id, kind, sequence)`);
    await q.query(`ALTER TABLE email_notices DROP COLUMN amount_cents`);
    await q.query(`ALTER TABLE email_notices DROP COLUMN subject`);
  }
}
