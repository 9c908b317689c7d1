import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The billing page's rate-limit counters, shared by every process and Lambda instance that serves
 * the page (an in-memory count would let each instance grant its own allowance). One row per
 * limit and key: `ip:<address>` or `token:<tokenTag>`, never a token itself. A row counts the hits
 * of the window ending at reset_at; the first hit after that starts a new window in place, and the
 * sweep deletes rows whose window has ended.
 */
const TABLE = `
  CREATE TABLE billing_page_hits (
    key       text        PRIMARY KEY,
    hits      integer     NOT NULL,
    reset_at  timestamptz NOT NULL
  )`;

const COMMENTS = [
  `COMMENT ON TABLE billing_page_hits IS 'Rate-limit counters of the billing page (GET /billing/<token>), shared by every instance: hits of the window that ends at reset_at, per key (ip:<address> or token:<hash of the token>). Rows whose window ended are deleted by the sweep.'`,
];

export class BillingPageHits1765600001000 implements MigrationInterface {
  name = 'BillingPageHits1765600001000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of [TABLE, ...COMMENTS]) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE billing_page_hits`);
  }
}
