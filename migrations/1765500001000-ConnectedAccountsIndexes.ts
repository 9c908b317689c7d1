import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The second half of ConnectedAccounts1765500000000, outside a transaction so that building the
 * indexes (CONCURRENTLY) never blocks the consumers writing invoices and events. An index left
 * invalid by an interrupted build is dropped first, so running this again finishes the job.
 *
 * Each holds the rows of connected accounts only: a platform without Connect pays nothing for
 * them, and `--account acct_…` (invoices, aging, stats, events, replay events) reads one
 * account's rows in the order the listings want them.
 */
const INDEXES = [
  ['invoices_account_idx', 'invoices (stripe_account_id, stripe_created_at)'],
  ['stripe_events_account_idx', 'stripe_events (stripe_account_id, created)'],
] as const;

export class ConnectedAccountsIndexes1765500001000 implements MigrationInterface {
  name = 'ConnectedAccountsIndexes1765500001000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    for (const [name, on] of INDEXES) {
      await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
      await q.query(`CREATE INDEX CONCURRENTLY ${name} ON ${on} WHERE stripe_account_id IS NOT NULL`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    // down may run inside a transaction (undoLastMigration starts one), where CONCURRENTLY is refused.
    for (const [name] of INDEXES) await q.query(`DROP INDEX ${name}`);
  }
}
