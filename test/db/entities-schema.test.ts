import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDataSource } from '../../src/db/data-source';
import { createTestDatabase, type TestDatabase } from '../support/database';

/**
 * The entities are the typed contract of the schema the migrations build. TypeORM's schema builder,
 * asked what it would run to make the migrated database match them, must find nothing. It compares
 * columns, types, nullability, defaults, comments, uniques and the names of indexes and checks, but
 * not a check's expression or an index's WHERE clause, and it ignores tables no entity names; so the
 * catalog of a database TypeORM builds from the entities alone must also equal the migrated one.
 *
 * The finance views have no entities: TypeORM's schema builder sees only views recorded in its own
 * typeorm_metadata table, which migrations do not write, so it would always report them missing.
 */

const adminUrl = () => process.env['TEST_PG_ADMIN_URL']!;

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// TypeORM's own bookkeeping; the migrations table exists only where migrations ran.
const BOOKKEEPING = ['migrations', 'typeorm_metadata'];

/** What a schema is made of, as PostgreSQL prints it back, in a stable order. */
async function catalog(url: string) {
  return withClient(url, async (c) => {
    const rows = async (sql: string) => (await c.query<{ line: string }>(sql, [BOOKKEEPING])).rows.map((r) => r.line);
    return {
      tables: await rows(`
        SELECT relname || coalesce(' -- ' || obj_description(oid, 'pg_class'), '') AS line
          FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND NOT relname = ANY($1)
         ORDER BY 1`),
      columns: await rows(`
        SELECT t.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
               || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
               || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
               || coalesce(' -- ' || col_description(t.oid, a.attnum), '') AS line
          FROM pg_attribute a
          JOIN pg_class t ON t.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE t.relnamespace = 'public'::regnamespace AND t.relkind = 'r' AND NOT t.relname = ANY($1)
           AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY 1`),
      constraints: await rows(`
        SELECT t.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) AS line
          FROM pg_constraint k
          JOIN pg_class t ON t.oid = k.conrelid
         WHERE t.relnamespace = 'public'::regnamespace AND NOT t.relname = ANY($1)
         ORDER BY 1`),
      indexes: await rows(`
        SELECT indexdef AS line FROM pg_indexes WHERE schemaname = 'public' AND NOT tablename = ANY($1) ORDER BY 1`),
    };
  });
}

let migrated: TestDatabase;
let fromEntities: { name: string; url: string };

beforeAll(async () => {
  migrated = await createTestDatabase(2);
  const name = `billing_entities_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl(), (c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(adminUrl());
  u.pathname = `/${name}`;
  fromEntities = { name, url: u.toString() };
});

afterAll(async () => {
  await migrated?.drop();
  if (fromEntities) await withClient(adminUrl(), (c) => c.query(`DROP DATABASE IF EXISTS ${fromEntities.name} WITH (FORCE)`));
});

test('TypeORM finds nothing to change between the entities and the migrated schema', async () => {
  const pending = await migrated.ds.driver.createSchemaBuilder().log();
  // The statements themselves are the diagnosis: each names the table, column or constraint that differs.
  expect(pending.upQueries.map((q) => q.query)).toEqual([]);
});

test('a database built from the entities alone has the migrated catalog: every table, column, constraint and index', async () => {
  const ds = createDataSource({ url: fromEntities.url, poolSize: 1 });
  await ds.initialize();
  try {
    await ds.synchronize();
  } finally {
    await ds.destroy();
  }
  expect(await catalog(fromEntities.url)).toEqual(await catalog(migrated.url));
});
