import type { EntityManager } from 'typeorm';

/**
 * billing_page_hits: the billing page's rate-limit counters, one row per limit and key, shared by
 * every process and Lambda instance. Time is the database's (now()), so instances whose clocks
 * disagree still count one window.
 */

export interface HitCount {
  /** Hits in the current window, this one included. */
  hits: number;
  /** When the current window ends. */
  resetAt: Date;
}

/**
 * Counts one hit in one statement: a new key, or one whose window has ended, starts a window of
 * `windowSeconds` with this hit; otherwise the hit is added. Concurrent hits on one key queue on
 * its row, so none is lost.
 */
export async function countHit(db: EntityManager, key: string, windowSeconds: number): Promise<HitCount> {
  const rows: Array<{ hits: number; reset_at: Date }> = await db.query(
    `INSERT INTO billing_page_hits AS h (key, hits, reset_at)
     VALUES ($1, 1, now() + $2::double precision * interval '1 second')
     ON CONFLICT (key) DO UPDATE
        SET hits     = CASE WHEN h.reset_at <= now() THEN 1 ELSE h.hits + 1 END,
            reset_at = CASE WHEN h.reset_at <= now() THEN EXCLUDED.reset_at ELSE h.reset_at END
     RETURNING hits, reset_at`,
    [key, windowSeconds],
  );
  const row = rows[0]!;
  return { hits: Number(row.hits), resetAt: new Date(row.reset_at) };
}

/** Takes back one hit of the current window (a request the limiter decided not to count after all). */
export async function uncountHit(db: EntityManager, key: string): Promise<void> {
  await db.query(`UPDATE billing_page_hits SET hits = hits - 1 WHERE key = $1 AND hits > 0 AND reset_at > now()`, [key]);
}

/** Forgets a key: its next hit starts a new window. */
export async function resetHits(db: EntityManager, key: string): Promise<void> {
  await db.query(`DELETE FROM billing_page_hits WHERE key = $1`, [key]);
}

/** Deletes the counters whose window ended before `before`; returns how many. */
export async function pruneExpiredHits(db: EntityManager, before: Date): Promise<number> {
  const rows: Array<{ pruned: number }> = await db.query(
    `WITH gone AS (DELETE FROM billing_page_hits WHERE reset_at <= $1 RETURNING 1)
     SELECT count(*)::integer AS pruned FROM gone`,
    [before],
  );
  return Number(rows[0]?.pruned ?? 0);
}
