import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { paidLifecycle, uid } from '../support/stripe-events';

/**
 * DATABASE_PREPARED_STATEMENTS, seen from PostgreSQL. One connection per data source, so the
 * session asked afterwards is the one the batches ran on: pg_prepared_statements lists what that
 * session keeps prepared, which is what RDS Proxy pins on.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db?.drop();
});

async function withDataSource<T>(preparedStatements: boolean | undefined, fn: (ds: DataSource) => Promise<T>): Promise<T> {
  const ds = createDataSource({ url: db.url, poolSize: 1, applicationName: 'prepared-statements-test', ...(preparedStatements === undefined ? {} : { preparedStatements }) });
  await ds.initialize();
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

/** A whole lifecycle, one batch per event, then what the session keeps prepared and the invoice's status. */
async function processLifecycle(ds: DataSource): Promise<{ prepared: string[]; status: string | undefined }> {
  const id = uid('in');
  for (const e of paidLifecycle(id, 1_700_000_000)) await applyEvent(ds, JSON.stringify(e));
  const prepared = (await ds.query<Array<{ name: string }>>('SELECT name FROM pg_prepared_statements ORDER BY name')).map((r) => r.name);
  const [row] = await ds.query<Array<{ status: string }>>('SELECT status FROM invoices WHERE stripe_invoice_id = $1', [id]);
  return { prepared, status: row?.status };
}

test('by default the batch statements stay prepared, by name, on the connection that ran them', async () => {
  const { prepared, status } = await withDataSource(undefined, processLifecycle);
  expect(status).toBe('paid');
  expect(prepared.length).toBeGreaterThan(0);
});

test('with prepared statements switched off the connection keeps none, and the batches still apply', async () => {
  const { prepared, status } = await withDataSource(false, processLifecycle);
  expect(prepared).toEqual([]);
  expect(status).toBe('paid');
});

test('switched on explicitly, as with DATABASE_PREPARED_STATEMENTS=true', async () => {
  const { prepared } = await withDataSource(true, processLifecycle);
  expect(prepared.length).toBeGreaterThan(0);
});
