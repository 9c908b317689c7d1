import type { DataSource } from 'typeorm';
import { isOverdue } from '../billing/overdue';

export interface SweepResult {
  flagged: number;
}

const BATCH = 500;

/**
 * Stripe sends nothing when a due date passes, so time alone must turn `overdue` on. Merges
 * recompute the flag for every other change; here only open invoices whose due date has passed
 * and that are not yet flagged are candidates (a partial index keeps this cheap at any size).
 * Rows locked by a consumer are skipped: its merge sets the flag itself.
 */
export async function sweepOverdue(ds: DataSource, nowSeconds: number): Promise<SweepResult> {
  let flagged = 0;
  for (;;) {
    const count = await ds.transaction(async (db) => {
      const rows: { id: string; status: 'open'; due: string; remaining: string; deleted: string | null }[] = await db.query(
        `SELECT id, status, extract(epoch from due_date)::bigint AS due, amount_remaining_cents AS remaining,
                extract(epoch from deleted_at)::bigint AS deleted
           FROM invoices
          WHERE status = 'open' AND due_date IS NOT NULL AND due_date < to_timestamp($1) AND NOT overdue
            AND amount_remaining_cents > 0 AND deleted_at IS NULL
          ORDER BY due_date
          LIMIT ${BATCH}
          FOR UPDATE SKIP LOCKED`,
        [nowSeconds],
      );
      const ids = rows
        .filter((r) =>
          isOverdue(
            { status: r.status, dueDate: Number(r.due), amountRemainingCents: Number(r.remaining), deletedAt: r.deleted === null ? null : Number(r.deleted) },
            nowSeconds,
          ),
        )
        .map((r) => r.id);
      if (ids.length > 0) {
        await db.query(`UPDATE invoices SET overdue = true, updated_at = now() WHERE id = ANY($1::bigint[])`, [ids]);
      }
      return { seen: rows.length, updated: ids.length };
    });
    flagged += count.updated;
    if (count.seen < BATCH) return { flagged };
  }
}
