import type { DataSource } from 'typeorm';
import type { NoticePolicy } from '../billing/notice-plan';
import { isOverdue } from '../billing/overdue';
import { noticeEffects } from '../effects/notice-effects';
import { lockFreeInvoices, setOverdueFlags } from '../db/invoices';
import { sweepCandidates } from '../db/invoices';
import { sqlClientOf } from '../db/sql-client';

export interface SweepResult {
  flagged: number;
  reviewed: number;
}

const BATCH = 200;

/**
 * Stripe sends nothing when a due date passes, so time alone must turn `overdue` on and bring
 * dunning reminders due. Candidates come from two partial indexes (open and past due but not yet
 * flagged; next dunning check reached), so the sweep stays cheap at any table size. Rows a
 * consumer holds are skipped: its merge does the same work.
 */
export async function sweepInvoices(ds: DataSource, nowSeconds: number, policy: NoticePolicy): Promise<SweepResult> {
  const result: SweepResult = { flagged: 0, reviewed: 0 };
  const effects = noticeEffects(policy);
  let afterId = '0';
  for (;;) {
    const candidates = await sweepCandidates(ds.manager, nowSeconds, afterId, BATCH);
    if (candidates.length === 0) return result;
    afterId = candidates[candidates.length - 1]!.id;
    await ds.transaction(async (db) => {
      const c = await sqlClientOf(db);
      const rows = await lockFreeInvoices(c, candidates.map((r) => r.stripeInvoiceId));
      const flags = new Map<string, boolean>();
      const changes = rows.map((row) => {
        const overdue = isOverdue(row, nowSeconds);
        if (overdue !== row.overdue) flags.set(row.stripeInvoiceId, overdue);
        if (overdue && !row.overdue) result.flagged++;
        return { previous: row, next: { ...row, overdue }, event: null, mode: 'live' as const };
      });
      await setOverdueFlags(c, flags);
      await effects(db, changes, nowSeconds);
      result.reviewed += rows.length;
    });
    if (candidates.length < BATCH) return result;
  }
}
