import type { DataSource } from 'typeorm';
import type { NoticePolicy } from '../billing/notice-plan';
import { isOverdue } from '../billing/overdue';
import { noticeEffects } from '../effects/notice-effects';
import { lockFreeInvoices, setOverdueFlags } from '../db/invoices';
import { sweepCandidates } from '../db/invoices';
import { sqlClientOf } from '../db/sql-client';
import { pruneExpiredHits } from '../db/billing-page-hits';
import { pruneEventPayloads, retentionCutoff } from './event-payload-retention';

export interface SweepResult {
  flagged: number;
  reviewed: number;
  /** Events whose payload this run removed; present only when a retention is set. */
  eventPayloadsPruned?: number;
  /** Why this run's prune failed, after the invoices were swept: the next run prunes again. */
  eventPayloadPruneError?: string;
  /** Why this run could not delete the billing page's ended rate-limit windows; the next run tries again. */
  billingPageHitsPruneError?: string;
}

export interface SweepOptions {
  /** EVENT_PAYLOAD_RETENTION_DAYS: processed events older than this lose their payload; unset: never. */
  eventPayloadRetentionDays?: number;
}

/** What the deployment's configuration asks of every sweep, in a process or on Lambda. */
export const sweepOptionsOf = (config: { eventPayloadRetentionDays?: number | undefined }): SweepOptions =>
  config.eventPayloadRetentionDays === undefined ? {} : { eventPayloadRetentionDays: config.eventPayloadRetentionDays };

const BATCH = 200;

/**
 * Payloads one run prunes at most: the first run after a retention is set may find years of
 * events, and a sweep must end well within its schedule (and the Lambda's timeout); the next
 * runs take the rest.
 */
export const SWEEP_PRUNE_LIMIT = 10 * 1000;

/**
 * What time alone brings, run on a schedule. Stripe sends nothing when a due date passes, so time
 * must turn `overdue` on and bring dunning reminders due. Candidates come from two partial indexes
 * (open and past due but not yet flagged; next dunning check reached), so the sweep stays cheap at
 * any table size. Rows a consumer holds are skipped: its merge does the same work. With a payload
 * retention, the invoices come first, then the payloads past it are pruned
 * (`billing events prune`, a share per run).
 */
export async function sweepInvoices(ds: DataSource, nowSeconds: number, policy: NoticePolicy, o: SweepOptions = {}): Promise<SweepResult> {
  const result = { ...(await sweepDueInvoices(ds, nowSeconds, policy)), ...(await pruneBillingPageHits(ds, nowSeconds)) };
  if (o.eventPayloadRetentionDays === undefined) return result;
  try {
    const pruned = await pruneEventPayloads(ds, { processedBefore: retentionCutoff(nowSeconds, o.eventPayloadRetentionDays), limit: SWEEP_PRUNE_LIMIT });
    return { ...result, eventPayloadsPruned: pruned.pruned };
  } catch (err) {
    // The invoices were swept and their notices committed: a failed prune is its own failure.
    return { ...result, eventPayloadPruneError: err instanceof Error ? err.message : String(err) };
  }
}

/** The billing page's rate-limit counters whose window ended: best effort, as they restart in place anyway. */
async function pruneBillingPageHits(ds: DataSource, nowSeconds: number): Promise<Pick<SweepResult, 'billingPageHitsPruneError'>> {
  try {
    await pruneExpiredHits(ds.manager, new Date(nowSeconds * 1000));
    return {};
  } catch (err) {
    return { billingPageHitsPruneError: err instanceof Error ? err.message : String(err) };
  }
}

async function sweepDueInvoices(ds: DataSource, nowSeconds: number, policy: NoticePolicy): Promise<SweepResult> {
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
