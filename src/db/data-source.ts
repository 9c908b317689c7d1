import 'reflect-metadata';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { ENTITIES } from '../../entities';
import { MIGRATIONS } from '../../migrations';
import { sendStatementsUnnamed } from './sql-client';

export interface DataSourceOptions {
  url: string;
  poolSize: number;
  applicationName?: string;
  /** False: no named prepared statements (DATABASE_PREPARED_STATEMENTS), for poolers that pin on them. Default true. */
  preparedStatements?: boolean;
}

/** One pool per process; the schema comes only from migrations, never from `synchronize`. */
export function createDataSource(options: DataSourceOptions): DataSource {
  const ds = new DataSource({
    type: 'postgres',
    // Handed over explicitly: TypeORM otherwise loads pg with a dynamic require that a bundle
    // (the Lambda artifacts) cannot follow.
    driver: pg,
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: options.applicationName ?? 'stripe-billing',
    extra: {
      max: options.poolSize,
      connectionTimeoutMillis: 5000,
      // A query stuck on a dead connection must fail so the message is retried elsewhere.
      query_timeout: 30000,
    },
  });
  if (options.preparedStatements === false) sendStatementsUnnamed(ds);
  return ds;
}

/**
 * Applies pending migrations under an advisory lock so that several processes starting at once do
 * not race. They run on a connection of their own without the service's 30 s query timer: an
 * index built concurrently or a backfill of a large table takes longer, and a timer that fires
 * leaves the statement running on the server while the migration is recorded as failed (each
 * migration bounds its own waits with lock_timeout where it takes strong locks).
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const extra = (dataSource.options as { extra?: Record<string, unknown> }).extra ?? {};
  const migrator = new DataSource({ ...dataSource.options, extra: { ...extra, max: 2, query_timeout: undefined } } as typeof dataSource.options);
  await migrator.initialize();
  const runner = migrator.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', ['stripe-billing:migrations']);
    const applied = await migrator.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', ['stripe-billing:migrations']).catch(() => undefined);
    await runner.release();
    await migrator.destroy();
  }
}
