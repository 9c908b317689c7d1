import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '../../src/db/data-source';

export interface TestDatabase {
  url: string;
  ds: DataSource;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env['TEST_PG_ADMIN_URL'];
  if (!url) throw new Error('TEST_PG_ADMIN_URL is not set: run the tests through jest (global setup starts PostgreSQL)');
  return url;
}

/** A fresh, migrated database for one test file, in the run's PostgreSQL server. */
export async function createTestDatabase(poolSize = 10): Promise<TestDatabase> {
  const name = `billing_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl());
  u.pathname = `/${name}`;
  const url = u.toString();
  const ds = createDataSource({ url, poolSize });
  await ds.initialize();
  await runMigrations(ds);
  return {
    url,
    ds,
    drop: async () => {
      if (ds.isInitialized) await ds.destroy();
      const c = new Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
