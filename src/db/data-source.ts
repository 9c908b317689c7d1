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

/** Applies pending migrations under an advisory lock so that several processes starting at once do not race. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', ['stripe-billing:migrations']);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', ['stripe-billing:migrations']).catch(() => undefined);
    await runner.release();
  }
}
