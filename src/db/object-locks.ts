import type { SqlClient } from './sql-client';

/** The first key of the two-key advisory locks on objects, so they share no key with other locks. */
const OBJECT_LOCK_SPACE = 0x1a7e1c;

const LOCK_NAMES = {
  name: 'lock_object_names',
  text: `SELECT pg_advisory_xact_lock(${OBJECT_LOCK_SPACE}, k)
           FROM (SELECT DISTINCT hashtext(n) AS k FROM unnest($1::text[]) AS n ORDER BY k) AS keys`,
};

/** The lock an object of this kind (Stripe's `object` name) is written under, and its effects read it under. */
export const objectLockName = (object: string, key: string): string => `${object}:${key}`;

/**
 * Serialises the transactions that write any of these objects, existing or not yet inserted, by
 * locks taken in one pass in one order until commit. Row locks alone come in two passes (lock the
 * rows that exist, then insert the new ones, then lock those another transaction inserted first),
 * and two batches overlapping on several objects deadlocked across those passes: PostgreSQL broke
 * each cycle after its one-second deadlock_timeout. Every lock a batch needs is taken here, its
 * objects' and those shared between kinds (a payment's), because locks taken kind by kind in
 * several passes could deadlock the same way. A hash collision only makes two unrelated objects
 * wait for each other; the keys are still taken in one order.
 */
export async function lockObjectNames(c: SqlClient, names: readonly string[]): Promise<void> {
  if (names.length > 0) await c.query({ ...LOCK_NAMES, values: [names] });
}
