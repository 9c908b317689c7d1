import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import { planRepair, snapshotFromListedInvoice, type FieldDifference, type RepairPlan } from '../billing/repair';
import { type InvoiceSnapshot } from '../billing/snapshot';
import { MalformedEventError } from '../errors';
import type { NoticeEffects } from '../effects/notice-effects';
import type { InvoiceState } from '../billing/invoice-state';
import { invoiceKind } from '../stripe-objects/invoice';
import type { Step } from '../stripe-objects/object-kind';
import type { BackoffOptions } from '../stripe/with-backoff';
import { wallClock } from '../clock';
import { fetchInvoiceMoney, finalizedInvoiceIds } from './invoice-money';
import { applyListed, readFetched, type ListedEntry } from './listed-objects';
import { emptyTally, rowDifferences, tallyRelated, type RelatedCounts, type RelatedTally } from './related-tally';
import { asAccount, apiManners, createdBetween, listPages, retrieveOne, type WarnLogger } from './stripe-pages';

export interface ReconcileOptions {
  /**
   * Invoices created in [since, until]: Stripe filters the invoice list by creation, not by change.
   * Each comes with all its payments, charges and credit notes, whenever those were created.
   */
  since: Date;
  until?: Date;
  /** Compare and report only: nothing is written. */
  dryRun?: boolean;
  /** A connected account's invoices (Connect), read as that account (Stripe-Account); absent: the platform's own. */
  account?: string;
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

/** A named invoice's report: as a range's, or unchanged. */
export type NamedInvoiceReport = InvoiceReport | { invoice: string; action: 'unchanged'; differences: [] };

export interface ReconcileResult {
  since: string;
  until: string | null;
  dryRun: boolean;
  /** The connected account reconciled; null for the platform's own. */
  account: string | null;
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
  /** The money behind the invoices listed, by kind (invoice_payment, charge, refund, credit_note). */
  related: Record<string, ReconciledCounts>;
  /** Each related object that is not unchanged, in the order listed. */
  objects: ObjectReport[];
}

export interface ReconciledCounts {
  listed: number;
  unchanged: number;
  /** Written, or in a dry run: would be. */
  repaired: number;
  inserted: number;
  invalid: number;
}

export interface ObjectReport {
  object: string;
  id: string;
  action: 'repaired' | 'inserted' | 'invalid';
  /** For a repaired row: each field of its row that differs, ours and Stripe's. */
  differences: Array<{ field: string; ours: unknown; stripe: unknown }>;
  reason?: string;
}

const asReconciled = (c: RelatedCounts): ReconciledCounts => ({ listed: c.listed, unchanged: c.unchanged, repaired: c.changed, inserted: c.inserted, invalid: c.invalid });

function objectReports(t: RelatedTally): ObjectReport[] {
  return t.changes.map((c) => {
    if (c.action === 'invalid') return { object: c.object, id: c.id, action: 'invalid', differences: [], reason: c.reason };
    if (c.action === 'inserted') return { object: c.object, id: c.id, action: 'inserted', differences: [] };
    return { object: c.object, id: c.id, action: 'repaired', differences: rowDifferences(c.previous, c.next) };
  });
}


/**
 * Makes rows agree with Stripe for the invoices created in a range, and for the money behind them
 * (each finalized invoice's payments and credit notes, the charges those payments point to, the
 * refunds a charge carries). Stripe is authoritative for invoices: a differing row is overwritten,
 * not merged, and a missing one inserted. The related objects are merged as listed, as an import
 * merges them: their joins only move forward (a refund only adds to a charge's amount refunded),
 * so Stripe's newer state is taken and a row never moves back. Each page is fetched, then compared
 * and written in one transaction through the pipeline's one path (reconcilePage).
 */
export async function reconcile(deps: ReconcileDeps, o: ReconcileOptions): Promise<ReconcileResult> {
  const clock = deps.nowSeconds ?? wallClock;
  // A row reconcile must insert is a baseline as of this moment (see NoticeChange).
  const startedAt = clock();
  const result: ReconcileResult = {
    since: o.since.toISOString(),
    until: o.until?.toISOString() ?? null,
    dryRun: o.dryRun ?? false,
    account: o.account ?? null,
    listed: 0,
    unchanged: 0,
    repaired: 0,
    inserted: 0,
    skipped: 0,
    invalid: 0,
    invoices: [],
    related: {},
    objects: [],
  };
  const related = emptyTally();
  const api = apiManners(deps, clock);
  const created = createdBetween(o.since, o.until);
  const pages = listPages((p) => deps.stripe.invoices.list({ ...p, created }, asAccount(o.account)), { path: '/v1/invoices', ...api });

  for await (const page of pages) {
    result.listed += page.data.length;
    deps.progress?.total(result.listed);
    const listed = page.data as unknown as Record<string, unknown>[];
    for (const report of await reconcilePage(deps, { ...api, account: result.account }, listed, page.fetchedAt, result.dryRun, clock, startedAt, related)) {
      if (report === null) result.unchanged++;
      else {
        result[report.action]++;
        result.invoices.push(report);
      }
    }
    deps.progress?.tick(page.data.length, String((page.data.at(-1) as { id?: unknown } | undefined)?.id ?? ''));
  }
  result.related = Object.fromEntries(Object.entries(related.counts).map(([k, c]) => [k, asReconciled(c)]));
  result.objects = objectReports(related);
  return result;
}

/**
 * Named invoices, each with the money behind it, compared and written as a range's are: what a
 * Stripe health alert repairs, since the events Stripe failed to generate never reach the Events
 * API. An invoice Stripe does not have is reported invalid. `account`: the connected account the
 * invoices are read as (null: the platform's own).
 */
export async function reconcileInvoices(deps: ReconcileDeps, ids: readonly string[], account: string | null = null): Promise<NamedInvoiceReport[]> {
  const clock = deps.nowSeconds ?? wallClock;
  const startedAt = clock();
  const api = apiManners(deps, clock);
  const reports: NamedInvoiceReport[] = [];
  for (const id of ids) {
    const { data, fetchedAt } = await retrieveOne(() => deps.stripe.invoices.retrieve(id, {}, asAccount(account)), { path: `/v1/invoices/${id}`, ...api });
    if (data === null) {
      reports.push({ invoice: id, action: 'invalid', differences: [], reason: 'Stripe has no such invoice' });
      continue;
    }
    const [report] = await reconcilePage(deps, { ...api, account }, [data as unknown as Record<string, unknown>], fetchedAt, false, clock, startedAt, emptyTally());
    reports.push(report ?? { invoice: id, action: 'unchanged', differences: [] });
  }
  return reports;
}

/** Stripe's state wins: a row is overwritten (or inserted) when planRepair says so, else left as it is. */
const repairStep: Step<InvoiceSnapshot, InvoiceState> = (row, snapshot, { now }) => {
  const plan = planRepair(row, snapshot, now);
  return plan.action === 'insert' || plan.action === 'repair' ? plan.next : row!;
};

/**
 * One page: the invoices as listed, then the money behind them fetched, then everything compared
 * and written in one transaction through the pipeline's one path, under the rows' locks, so a
 * consumer applying an event of the same object waits; the notices a real transition implies
 * commit with the row. An object the database refuses is applied alone and reported invalid, so
 * it holds back none of the page. Each listed invoice gets its report, in the order listed; the
 * related objects are added to `related`. Everything is read, and stamped, as `api.account`.
 */
async function reconcilePage(
  deps: ReconcileDeps,
  api: { logger: WarnLogger; nowSeconds: () => number; backoff?: BackoffOptions; apiBase?: string; account: string | null },
  invoices: Record<string, unknown>[],
  fetchedAt: number,
  dryRun: boolean,
  clock: () => number,
  startedAt: number,
  related: RelatedTally,
): Promise<Array<InvoiceReport | null>> {
  const reports: Array<InvoiceReport | null> = [];
  const snapshots: Array<{ at: number; snapshot: InvoiceSnapshot }> = [];
  for (const invoice of invoices) {
    try {
      snapshots.push({ at: reports.length, snapshot: snapshotFromListedInvoice(invoice, fetchedAt, 'reconcile', api.account) });
      reports.push(null);
    } catch (err) {
      if (!(err instanceof MalformedEventError)) throw err;
      reports.push({ invoice: String(invoice['id'] ?? '(no id)'), action: 'invalid', differences: [], reason: err.message });
    }
  }
  const money = await fetchInvoiceMoney({ stripe: deps.stripe, ...api }, finalizedInvoiceIds(snapshots.map((s) => s.snapshot)));
  const fetched = readFetched(money.objects, 'reconcile', api.account);
  const entries: ListedEntry[] = [...snapshots.map(({ snapshot }) => ({ kind: invoiceKind, snapshot })), ...fetched.entries];
  const now = clock();
  const { outcomes } = await applyListed(deps.ds, entries, {
    now,
    startedAt,
    effects: deps.effects ? { notices: deps.effects } : {},
    stepOf: (kind) => (kind === invoiceKind ? repairStep : kind.reduceListed),
    dryRun,
  });
  snapshots.forEach(({ at, snapshot }, i) => {
    const o = outcomes[i]!;
    reports[at] = o.ok
      ? toReport(snapshot, planRepair((o.change.previous as InvoiceState | null) ?? null, snapshot, now))
      : { invoice: snapshot.stripeInvoiceId, action: 'invalid', differences: [], reason: o.reason };
  });
  tallyRelated(related, fetched.entries, outcomes.slice(snapshots.length), [...fetched.invalid, ...money.missing]);
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
