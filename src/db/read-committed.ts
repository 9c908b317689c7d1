import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs `work` in one READ COMMITTED transaction on one pooled connection, opened by a single
 * `BEGIN ISOLATION LEVEL READ COMMITTED`. TypeORM's `transaction('READ COMMITTED', …)` opens with
 * `START TRANSACTION` and then `SET TRANSACTION ISOLATION LEVEL …`: one round trip more, on the
 * path that every batch of events takes. The level is still named, so a server whose
 * default_transaction_isolation is stricter does not change what a batch sees.
 */
export async function readCommitted<T>(ds: DataSource, work: (db: EntityManager) => Promise<T>): Promise<T> {
  const runner = ds.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('BEGIN ISOLATION LEVEL READ COMMITTED');
    let result: T;
    try {
      result = await work(runner.manager);
    } catch (error) {
      // As TypeORM does: a rollback that fails (a lost connection) leaves the work's error to report.
      await runner.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    await runner.query('COMMIT');
    return result;
  } finally {
    await runner.release();
  }
}
