// The pipeline's transactions: opened by one statement at READ COMMITTED whatever the server's
// default, committed when the work succeeds, rolled back when it throws, and the connection
// returned to the pool either way.
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { readCommitted } from '../../src/db/read-committed';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
let strict: DataSource;

beforeAll(async () => {
  db = await createTestDatabase(2);
  const c = new Client({ connectionString: db.url });
  await c.connect();
  const name = (await c.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
  // A server configured stricter than PostgreSQL's default: new sessions start SERIALIZABLE.
  await c.query(`ALTER DATABASE ${name} SET default_transaction_isolation = 'serializable'`);
  await c.query(`CREATE TABLE marks (n int PRIMARY KEY)`);
  await c.end();
  // One connection: a connection not returned would stall the next call.
  strict = createDataSource({ url: db.url, poolSize: 1 });
  await strict.initialize();
});

afterAll(async () => {
  if (strict?.isInitialized) await strict.destroy();
  await db?.drop();
});

const marks = async (): Promise<number[]> => (await strict.query(`SELECT n FROM marks ORDER BY n`)).map((r: { n: number }) => r.n);

it('runs at READ COMMITTED although the database defaults to SERIALIZABLE', async () => {
  expect((await strict.query(`SHOW transaction_isolation`))[0].transaction_isolation).toBe('serializable');
  const seen = await readCommitted(strict, async (tx) => (await tx.query(`SHOW transaction_isolation`))[0].transaction_isolation);
  expect(seen).toBe('read committed');
});

it('commits what the work wrote and gives back its result', async () => {
  const result = await readCommitted(strict, async (tx) => {
    await tx.query(`INSERT INTO marks (n) VALUES (1)`);
    // The work's own uncommitted row is visible to it.
    return (await tx.query(`SELECT count(*)::int AS n FROM marks`))[0].n as number;
  });
  expect(result).toBe(1);
  expect(await marks()).toEqual([1]);
});

it('rolls back everything the work wrote when it throws, and rethrows its error', async () => {
  const failure = new Error('the work failed');
  await expect(
    readCommitted(strict, async (tx) => {
      await tx.query(`INSERT INTO marks (n) VALUES (2)`);
      throw failure;
    }),
  ).rejects.toBe(failure);
  expect(await marks()).toEqual([1]);
});

it('rolls back a statement error and leaves the connection usable for the next transaction', async () => {
  for (let i = 0; i < 3; i++) {
    await expect(readCommitted(strict, (tx) => tx.query(`INSERT INTO marks (n) VALUES (1)`))).rejects.toThrow(/duplicate key/);
  }
  // The pool's one connection came back each time, outside any transaction.
  await readCommitted(strict, (tx) => tx.query(`INSERT INTO marks (n) VALUES (3)`));
  expect(await marks()).toEqual([1, 3]);
});
