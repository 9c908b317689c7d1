import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Event payloads past their retention can be removed (`billing events prune`, or the sweep under
 * EVENT_PAYLOAD_RETENTION_DAYS) while the row stays: its id is what makes a late duplicate a
 * duplicate. A pruned payload is NULL, never a stand-in object, so no reader can take it for an
 * event; `payload_pruned_at` says when, and the checks tie the two together and keep pruning to
 * processed events.
 *
 * Every statement here changes the catalog only (the checks are added NOT VALID), so the table is
 * locked for an instant whatever its size; EventPayloadRetentionIndex1765400001000 validates the
 * checks and builds the index without blocking writes.
 */
export class EventPayloadRetention1765400000000 implements MigrationInterface {
  name = 'EventPayloadRetention1765400000000';

  async up(q: QueryRunner): Promise<void> {
    // The table's strongest lock, for a moment: rather than queue every writer behind a long
    // reader, give up after 10 s and let the next start try again.
    await q.query(`SET LOCAL lock_timeout = '10s'`);
    await q.query(`ALTER TABLE stripe_events ADD COLUMN payload_pruned_at timestamptz, ALTER COLUMN payload DROP NOT NULL`);
    await q.query(
      `ALTER TABLE stripe_events ADD CONSTRAINT stripe_events_payload_pruned_check CHECK ((payload IS NULL) = (payload_pruned_at IS NOT NULL)) NOT VALID`,
    );
    await q.query(
      `ALTER TABLE stripe_events ADD CONSTRAINT stripe_events_pruned_processed_check CHECK (payload_pruned_at IS NULL OR processed_at IS NOT NULL) NOT VALID`,
    );
    await q.query(
      `COMMENT ON COLUMN stripe_events.payload_pruned_at IS 'when the payload was removed for retention (payload is then null); the row stays so a late duplicate is still known'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stripe_events DROP CONSTRAINT stripe_events_pruned_processed_check, DROP CONSTRAINT stripe_events_payload_pruned_check`);
    // The payloads are gone; the old schema needs an object, which says what happened to it.
    await q.query(`UPDATE stripe_events SET payload = jsonb_build_object('payload_pruned_at', payload_pruned_at) WHERE payload IS NULL`);
    await q.query(`ALTER TABLE stripe_events DROP COLUMN payload_pruned_at, ALTER COLUMN payload SET NOT NULL`);
  }
}
