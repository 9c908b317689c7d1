import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import { planRepair, snapshotFromListedInvoice, type FieldDifference, type RepairPlan } from '../billing/repair';
import { MalformedEventError, type InvoiceSnapshot } from '../billing/snapshot';
import type { NoticeEffects } from '../effects/notice-effects';
import { findInvoice, insertInvoice, lockInvoice, updateInvoice } from '../db/invoice-rows';
import type { BackoffOptions } from '../stripe/with-backoff';
import { wallClock } from '../clock';
import { createdBetween, listPages, type WarnLogger } from './stripe-pages';

export interface ReconcileOptions {
  /** Invoices created in [since, until]: Stripe filters the invoice list by creation, not by change. */
  since: Date;
  until?: Date;
  /** Compare and report only: nothing is written. */
  dryRun?: boolean;
}

export interface ReconcileDeps {
  stripe: Stripe;
  ds: DataSource;
  /**
   * The notice effects, run in the repair's transaction on every row written: a repaired row of a
   * known invoice as news, an inserted row as a baseline (its notices recorded, none sent).
   */
  afterMerge?: NoticeEffects;
  logger: WarnLogger;
  progress?: { total(n: number): void; tick(n?: number, note?: string): void };
  backoff?: BackoffOptions;
  /** STRIPE_API_BASE, for error messages. */
  apiBase?: string;
  nowSeconds?: () => number;
}

export type InvoiceAction = 'repaired' | 'inserted' | 'skipped' | 'invalid';

export interface InvoiceReport {
  invoice: string;
  action: InvoiceAction;
  /** Stripe's status, for context. */
  status?: string;
  /** For repaired and skipped rows: each field that differs, ours and Stripe's. */
  differences: FieldDifference[];
  reason?: string;
}

export interface ReconcileResult {
  since: string;
  until: string | null;
  dryRun: boolean;
  listed: number;
  unchanged: number;
  /** Written, or in a dry run: would be. */
  repaired: number;
  inserted: number;
  /** Rows that changed after Stripe's state was fetched; the next run looks again. */
  skipped: number;
  /** Invoices the API returned that cannot become a row (reported with the reason). */
  invalid: number;
  /** Every invoice that is not unchanged, in the order listed. */
  invoices: InvoiceReport[];
}


/**
 * Makes rows agree with Stripe for the invoices created in a range. Stripe is authoritative
 * here: a differing row is overwritten, not merged, and a missing one inserted. Each invoice is
 * compared and written in its own transaction under the row lock, so a consumer merging an event
 * of the same invoice waits, and the notices a real transition implies commit with the row.
 */
export async function reconcile(deps: ReconcileDeps, o: ReconcileOptions): Promise<ReconcileResult> {
  const clock = deps.nowSeconds ?? wallClock;
  // A row reconcile must insert is a baseline as of this moment (see NoticeChange).
  const startedAt = clock();
  const result: ReconcileResult = {
    since: o.since.toISOString(),
    until: o.until?.toISOString() ?? null,
    dryRun: o.dryRun ?? false,
    listed: 0,
    unchanged: 0,
    repaired: 0,
    inserted: 0,
    skipped: 0,
    invalid: 0,
    invoices: [],
  };
  const created = createdBetween(o.since, o.until);
  const pages = listPages((p) => deps.stripe.invoices.list({ ...p, created }), {
    path: '/v1/invoices',
    logger: deps.logger,
    nowSeconds: clock,
    ...(deps.backoff ? { backoff: deps.backoff } : {}),
    ...(deps.apiBase ? { apiBase: deps.apiBase } : {}),
  });

  for await (const page of pages) {
    result.listed += page.data.length;
    deps.progress?.total(result.listed);
    for (const invoice of page.data as unknown as Record<string, unknown>[]) {
      const report = await reconcileOne(deps, invoice, page.fetchedAt, result.dryRun, clock, startedAt);
      if (report === null) result.unchanged++;
      else {
        result[report.action]++;
        result.invoices.push(report);
      }
      deps.progress?.tick(1, String(invoice['id']));
    }
  }
  return result;
}

async function reconcileOne(
  deps: ReconcileDeps,
  invoice: Record<string, unknown>,
  fetchedAt: number,
  dryRun: boolean,
  clock: () => number,
  startedAt: number,
): Promise<InvoiceReport | null> {
  let snapshot: InvoiceSnapshot;
  try {
    snapshot = snapshotFromListedInvoice(invoice, fetchedAt);
  } catch (err) {
    if (!(err instanceof MalformedEventError)) throw err;
    return { invoice: String(invoice['id'] ?? '(no id)'), action: 'invalid', differences: [], reason: err.message };
  }
  const plan = dryRun
    ? planRepair(await findInvoice(deps.ds.manager, snapshot.stripeInvoiceId), snapshot, clock())
    : await repairLocked(deps, snapshot, clock, startedAt);
  return toReport(snapshot, plan);
}

async function repairLocked(deps: ReconcileDeps, snapshot: InvoiceSnapshot, clock: () => number, startedAt: number): Promise<RepairPlan> {
  return deps.ds.transaction('READ COMMITTED', async (db) => {
    for (;;) {
      const now = clock();
      const previous = await lockInvoice(db, snapshot.stripeInvoiceId);
      const plan = planRepair(previous, snapshot, now);
      if (plan.action === 'insert') {
        // A consumer inserted the row since we looked: lock theirs and compare again.
        if (!(await insertInvoice(db, plan.next))) continue;
      } else if (plan.action === 'repair') {
        await updateInvoice(db, plan.next);
      }
      if ((plan.action === 'insert' || plan.action === 'repair') && deps.afterMerge) {
        const change = { previous, next: plan.next, event: snapshot };
        await deps.afterMerge(db, [plan.action === 'insert' ? { ...change, mode: 'baseline', baselineAt: startedAt } : { ...change, mode: 'live' }], now);
      }
      return plan;
    }
  });
}

function toReport(snapshot: InvoiceSnapshot, plan: RepairPlan): InvoiceReport | null {
  const base = { invoice: snapshot.stripeInvoiceId, status: snapshot.fields?.status ?? 'unknown' };
  switch (plan.action) {
    case 'unchanged':
      return null;
    case 'insert':
      return { ...base, action: 'inserted', differences: [] };
    case 'repair':
      return { ...base, action: 'repaired', differences: plan.differences };
    case 'skip':
      return { ...base, action: 'skipped', differences: plan.differences, reason: 'the row changed after Stripe was asked; run reconcile again' };
  }
}
