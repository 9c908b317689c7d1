import type { EntityManager } from 'typeorm';
import type { SqlClient } from './sql-client';

/**
 * The only SQL a kind's rows need on the write path; each lives in the kind's repository in src/db/.
 * The batch has already taken its objects' advisory locks (lockObjectNames) when these run.
 */
export interface ObjectRepository<R> {
  /** The rows that exist, locked until commit. */
  lock(c: SqlClient, keys: readonly string[]): Promise<Map<string, R>>;
  /** The rows that exist, unlocked: what a dry run compares against. */
  find(db: EntityManager, keys: readonly string[]): Promise<Map<string, R>>;
  /** Inserts new rows; returns the keys another transaction inserted first (nothing written for those). */
  insert(c: SqlClient, rows: readonly R[]): Promise<string[]>;
  /** Rewrites rows this transaction holds locked, each key at most once. */
  update(c: SqlClient, rows: readonly R[]): Promise<void>;
}
