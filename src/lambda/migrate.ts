import type { Context } from 'aws-lambda';
import { createDataSource, runMigrations } from '../db/data-source';
import type { LambdaRuntime } from './runtime';

/**
 * A one-off function for the deploy step (`serverless invoke -f migrate`): it runs inside the VPC
 * with the same credentials as the others, so no one needs a route to the database. It opens its
 * own connection and closes it again, since the migration lock is session state that would pin an
 * RDS Proxy connection for as long as it stayed open.
 */
export function migrateHandler(rt: LambdaRuntime) {
  return async (_event: unknown, context?: Pick<Context, 'awsRequestId'>): Promise<{ applied: string[] }> => {
    const config = await rt.config(['database']);
    // Two connections: one holds the migration lock while TypeORM runs the migrations on the other.
    const ds = createDataSource({ url: config.databaseUrl!, poolSize: 2, applicationName: 'stripe-billing-migrate' });
    await ds.initialize();
    try {
      const applied = await runMigrations(ds);
      rt.logger(config).info({ requestId: context?.awsRequestId, migrations: applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date');
      return { applied };
    } finally {
      await ds.destroy();
    }
  };
}
