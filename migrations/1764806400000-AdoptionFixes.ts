import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a first real use asked of the schema: when an event's message went to the dead-letter
 * queue, and finance views that read the way finance reads.
 */
export class AdoptionFixes1764806400000 implements MigrationInterface {
  name = 'AdoptionFixes1764806400000';

  async up(q: QueryRunner): Promise<void> {
    // Set by the consumer when a failing message has used its last receive: SQS moves it to the
    // DLQ instead of delivering it again. Kept after a replay, as the record that it happened.
    await q.query(`ALTER TABLE stripe_events ADD COLUMN dead_lettered_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stripe_events DROP COLUMN dead_lettered_at`);
  }
}
