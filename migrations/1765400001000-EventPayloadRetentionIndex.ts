import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The second half of EventPayloadRetention1765400000000, outside a transaction so that neither
 * step blocks the consumers writing events: VALIDATE CONSTRAINT takes a lock that lets writes
 * through, and the index is built CONCURRENTLY. Each statement is safe to run again: validating a
 * valid check does nothing, and an index left invalid by an interrupted build is dropped first.
 *
 * The index holds the processed events whose payload is still there, so each prune batch reads
 * only rows it will prune and a pruned row leaves the index.
 */
export class EventPayloadRetentionIndex1765400001000 implements MigrationInterface {
  name = 'EventPayloadRetentionIndex1765400001000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stripe_events VALIDATE CONSTRAINT stripe_events_payload_pruned_check`);
    await q.query(`ALTER TABLE stripe_events VALIDATE CONSTRAINT stripe_events_pruned_processed_check`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS stripe_events_prunable_idx`);
    await q.query(
      `CREATE INDEX CONCURRENTLY stripe_events_prunable_idx ON stripe_events (processed_at) WHERE payload_pruned_at IS NULL AND processed_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // down may run inside a transaction (undoLastMigration starts one), where CONCURRENTLY is refused.
    await q.query(`DROP INDEX stripe_events_prunable_idx`);
  }
}
