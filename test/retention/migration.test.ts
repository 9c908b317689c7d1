import { runMigrations } from '../../src/db/data-source';
import { pruneEventPayloads } from '../../src/sweep/event-payload-retention';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { applyEvent } from '../support/apply-event';
import { paidLifecycle, uid } from '../support/stripe-events';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db?.drop();
});

const FIRST = 'EventPayloadRetention1765400000000';

async function catalogState() {
  const [column]: Array<{ nullable: string }> = await db.ds.query(
    `SELECT is_nullable AS nullable FROM information_schema.columns WHERE table_name = 'stripe_events' AND column_name = 'payload'`,
  );
  const checks: Array<{ name: string; validated: boolean }> = await db.ds.query(
    `SELECT conname AS name, convalidated AS validated FROM pg_constraint WHERE conrelid = 'stripe_events'::regclass AND contype = 'c' ORDER BY conname`,
  );
  const indexes: Array<{ valid: boolean }> = await db.ds.query(
    `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'stripe_events_prunable_idx'`,
  );
  return { payloadNullable: column!.nullable === 'YES', checks, indexes };
}

it('builds valid checks and a valid index outside a transaction; down keeps pruned rows, as objects that say so; up runs again', async () => {
  expect(await catalogState()).toEqual({
    payloadNullable: true,
    checks: [
      { name: 'stripe_events_payload_pruned_check', validated: true },
      { name: 'stripe_events_pruned_processed_check', validated: true },
    ],
    indexes: [{ valid: true }],
  });

  const lifecycle = paidLifecycle(uid('in'), 1_700_000_000);
  for (const e of lifecycle) await applyEvent(db.ds, JSON.stringify(e));
  await db.ds.query(`UPDATE stripe_events SET processed_at = now() - interval '200 days'`);
  expect(await pruneEventPayloads(db.ds, { processedBefore: new Date(Date.now() - 90 * 86_400_000) })).toMatchObject({ pruned: 6 });

  const applied = ((await db.ds.query(`SELECT name FROM migrations ORDER BY id`)) as { name: string }[]).map((m) => m.name);
  const fromThis = applied.slice(applied.indexOf(FIRST));
  expect(fromThis.slice(0, 2)).toEqual([FIRST, 'EventPayloadRetentionIndex1765400001000']);
  for (let i = 0; i < fromThis.length; i++) await db.ds.undoLastMigration({ transaction: 'each' });

  expect(await catalogState()).toEqual({ payloadNullable: false, checks: [], indexes: [] });
  const payloads: Array<{ payload: Record<string, unknown> }> = await db.ds.query(`SELECT payload FROM stripe_events ORDER BY id`);
  expect(payloads).toHaveLength(6);
  for (const { payload } of payloads) expect(Object.keys(payload)).toEqual(['payload_pruned_at']);

  expect(await runMigrations(db.ds)).toEqual(fromThis);
  expect((await catalogState()).indexes).toEqual([{ valid: true }]);
});

it('the prune statement can use the partial index: it reads only what is left to prune', async () => {
  const runner = db.ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    await runner.query(`SET LOCAL enable_seqscan = off`);
    const plan: Array<{ 'QUERY PLAN': string }> = await runner.query(
      `EXPLAIN SELECT id FROM stripe_events
        WHERE processed_at < now() - interval '90 days' AND payload_pruned_at IS NULL AND last_error IS NULL
        ORDER BY processed_at LIMIT 1000 FOR UPDATE SKIP LOCKED`,
    );
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index Scan using stripe_events_prunable_idx/);
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
});
