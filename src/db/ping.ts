import type { EntityManager } from 'typeorm';

/** Resolves when the database answers a query; rejects with the driver's error when it does not. */
export async function ping(db: Pick<EntityManager, 'query'>): Promise<void> {
  await db.query('SELECT 1');
}
