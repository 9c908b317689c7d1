import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import { planRepair, snapshotFromListedInvoice, type FieldDifference, type RepairPlan } from '../billing/repair';
import { type InvoiceSnapshot } from '../billing/snapshot';
import { MalformedEventError } from '../errors';
import type { NoticeEffects } from '../effects/notice-effects';
import type { InvoiceState } from '../billing/invoice-state';
import { isConnectionError } from '../db/connection-errors';
import { applyIsolating } from '../pipeline/apply-batch';
import { errorText } from '../pipeline/types';
import { planObjects } from '../pipeline/apply-objects';
import { invoiceKind } from '../stripe-objects/invoice';
import type { Step } from '../stripe-objects/object-kind';
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
  effects?: NoticeEffects;
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
 * here: a differing row is overwritten, not merged, and a missing one inserted. Each page is
 * compared and written in one transaction through the pipeline's one path (reconcilePage).
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
    for (const report of await reconcilePage(deps, page.data as unknown as Record<string, unknown>[], page.fetchedAt, result.dryRun, clock(), startedAt)) {
      if (report === null) result.unchanged++;
      else {
        result[report.action]++;
        result.invoices.push(report);
      }
    }
    deps.progress?.tick(page.data.length, String((page.data.at(-1) as { id?: unknown } | undefined)?.id ?? ''));
  }
  return result;
}

/** Stripe's state wins: a row is overwritten (or inserted) when planRepair says so, else left as it is. */
const repairStep: Step<InvoiceSnapshot, InvoiceState> = (row, snapshot, { now }) => {
  const plan = planRepair(row, snapshot, now);
  return plan.action === 'insert' || plan.action === 'repair' ? plan.next : row!;
};

/**
 * One page in one transaction through the pipeline's one path, under the rows' locks, so a
 * consumer applying an event of the same invoice waits; the notices a real transition implies
 * commit with the row. An invoice the database refuses is applied alone and reported invalid, so
 * it holds back none of the page. Each listed invoice gets its report, in the order listed.
 */
async function reconcilePage(deps: ReconcileDeps, invoices: Record<string, unknown>[], fetchedAt: number, dryRun: boolean, now: number, startedAt: number): Promise<Array<InvoiceReport | null>> {
  const reports: Array<InvoiceReport | null> = [];
  const snapshots: Array<{ at: number; snapshot: InvoiceSnapshot }> = [];
  for (const invoice of invoices) {
    try {
      snapshots.push({ at: reports.length, snapshot: snapshotFromListedInvoice(invoice, fetchedAt) });
      reports.push(null);
    } catch (err) {
      if (!(err instanceof MalformedEventError)) throw err;
      reports.push({ invoice: String(invoice['id'] ?? '(no id)'), action: 'invalid', differences: [], reason: err.message });
    }
  }
  const items = snapshots.map(({ snapshot }, index) => ({ index, snapshot }));
  if (dryRun) {
    const planned = await planObjects(deps.ds.manager, { kind: invoiceKind, items, now, step: repairStep });
    snapshots.forEach(({ at, snapshot }, i) => (reports[at] = toReport(snapshot, planRepair(planned[i]!.previous, snapshot, now))));
    return reports;
  }
  const { outcomes } = await applyIsolating(
    deps.ds,
    snapshots.map(({ snapshot }) => ({ kind: invoiceKind, snapshot })),
    {
      now,
      effects: deps.effects ? { notices: deps.effects } : {},
      stepOf: () => repairStep,
      // A row reconcile must insert is a baseline as of the run's start (see ChangeMode).
      modeOf: (ch) => (ch.previous === null ? { mode: 'baseline', baselineAt: startedAt } : { mode: 'live' }),
      effectsOfWrittenOnly: true,
    },
  );
  snapshots.forEach(({ at, snapshot }, i) => {
    const o = outcomes[i]!;
    // An unreachable database stops the run (run it again); an invoice the database refuses is reported.
    if (!o.ok && isConnectionError(o.error)) throw o.error;
    reports[at] = o.ok
      ? toReport(snapshot, planRepair((o.result.change!.previous as InvoiceState | null) ?? null, snapshot, now))
      : { invoice: snapshot.stripeInvoiceId, action: 'invalid', differences: [], reason: `the database refused it: ${errorText(o.error)}` };
  });
  return reports;
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
