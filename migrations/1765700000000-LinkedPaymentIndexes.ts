import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The index on a charge's invoice, and the one on an invoice payment's charge, hold linked rows
 * only. Every query that reads them names an invoice or a charge; the link statements look for
 * rows not linked yet among rows they find by key. With the NULLs in the index, the planner could
 * take "not linked yet" as the way in and read every unlinked charge for each batch (it did on
 * tables not analyzed yet, as after an install or an import), and one-off charges, which belong to
 * no invoice, stay unlinked for good.
 *
 * Outside a transaction, each index is built CONCURRENTLY beside the one it replaces, so the
 * consumers writing charges are not blocked; each step is safe to run again.
 */
const REPLACED = [
  { table: 'charges', index: 'charges_invoice_idx', column: 'stripe_invoice_id' },
  { table: 'invoice_payments', index: 'invoice_payments_charge_idx', column: 'stripe_charge_id' },
];

export class LinkedPaymentIndexes1765700000000 implements MigrationInterface {
  name = 'LinkedPaymentIndexes1765700000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    for (const { table, index, column } of REPLACED) {
      await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index}_linked`);
      await q.query(`CREATE INDEX CONCURRENTLY ${index}_linked ON ${table} (${column}) WHERE ${column} IS NOT NULL`);
      await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index}`);
      await q.query(`ALTER INDEX ${index}_linked RENAME TO ${index}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    // down may run inside a transaction (undoLastMigration starts one), where CONCURRENTLY is refused.
    for (const { table, index, column } of REPLACED) {
      await q.query(`DROP INDEX ${index}`);
      await q.query(`CREATE INDEX ${index} ON ${table} (${column})`);
    }
  }
}
