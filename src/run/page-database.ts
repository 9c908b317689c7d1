import type { EntityManager } from 'typeorm';
import type { Config } from '../config';
import type { Closers, Database } from './resources';

const dataSourceModule = () => require('../db/data-source') as typeof import('../db/data-source');

/** Connections the billing page keeps in a process that opened the database for it alone. */
const PAGE_POOL_SIZE = 4;

/**
 * The database the billing page reads. `billing dev` passes the one it opened. `billing serve`
 * takes webhooks without a database, so the page connects to DATABASE_URL on its first request
 * (without migrating: the worker migrates) and a database that is down costs the page a 503,
 * never a webhook. Without DATABASE_URL, `serve` has no database to read and the page answers 503.
 */
export function pageDatabase(config: Config, closers: Closers, opened?: Database): () => Promise<EntityManager> {
  if (opened) return () => Promise.resolve(opened.ds.manager);
  const url = config.databaseUrl;
  if (url === undefined) return () => Promise.reject(new Error('the billing page needs DATABASE_URL under `billing serve`'));
  let ready: Promise<EntityManager> | undefined;
  return () => {
    ready ??= (async () => {
      const { createDataSource } = dataSourceModule();
      const ds = createDataSource({
        url,
        poolSize: Math.min(config.databasePoolSize, PAGE_POOL_SIZE),
        preparedStatements: config.databasePreparedStatements,
        applicationName: 'stripe-billing-page',
      });
      try {
        await ds.initialize();
      } catch (err) {
        ready = undefined;
        throw err;
      }
      closers.push('billing-page-database', () => ds.destroy());
      return ds.manager;
    })();
    return ready;
  };
}
