import type { MigrationInterface, QueryRunner } from 'typeorm';

const KNOWN_STATUSES = `('draft', 'open', 'paid', 'void', 'uncollectible')`;

/**
 * invoices.status holds what Stripe sent, also a status Stripe adds after this code was written
 * (its SDK types the field as open-ended): such an event is processed and its status stored, not
 * refused by a CHECK and dead-lettered. The code gives an unknown status no meaning: it ranks
 * like open in the merge and is never overdue, dunned or announced.
 */
export class OpenEndedInvoiceStatus1765000000000 implements MigrationInterface {
  name = 'OpenEndedInvoiceStatus1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE invoices DROP CONSTRAINT invoices_status_check`);
  }

  /**
   * The constraint comes back only after every row satisfies it, so a status it does not allow
   * becomes open: the rank the merge gave it, and the status Stripe documents for a finalized
   * invoice that is neither settled nor written off. The status Stripe sent is lost; the invoice's
   * next event after upgrading again stores it anew.
   */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE invoices SET status = 'open', updated_at = now() WHERE status NOT IN ${KNOWN_STATUSES}`);
    await q.query(`ALTER TABLE invoices ADD CONSTRAINT invoices_status_check CHECK (status IN ${KNOWN_STATUSES})`);
  }
}
