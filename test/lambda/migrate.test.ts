import { Client } from 'pg';
import { migrateHandler } from '../../src/lambda/migrate';
import { LambdaRuntime } from '../../src/lambda/runtime';
import { MIGRATIONS } from '../../migrations';
import { createEmptyDatabase } from './empty-database';
import { lambdaContext, noAwsStores } from './events';

describe('the migrate function (a deploy step, invoked by hand)', () => {
  it('applies every migration to an empty database once, then finds nothing to do, and leaves no connection open', async () => {
    const db = await createEmptyDatabase();
    const rt = new LambdaRuntime({ env: { DATABASE_URL: db.url, LOG_LEVEL: 'silent' }, stores: noAwsStores });
    try {
      const first = await migrateHandler(rt)({}, lambdaContext('migrate'));
      expect(first.applied).toHaveLength(MIGRATIONS.length);
      expect(await migrateHandler(rt)({}, lambdaContext('migrate'))).toEqual({ applied: [] });

      const c = new Client({ connectionString: db.url });
      await c.connect();
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'stripe-billing-migrate'`);
      const tables = await c.query(`SELECT to_regclass('public.invoices') IS NOT NULL AS invoices`);
      await c.end();
      expect(rows[0].n).toBe(0);
      expect(tables.rows[0].invoices).toBe(true);
    } finally {
      await rt.close();
      await db.drop();
    }
  });
});
