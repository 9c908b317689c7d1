import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import type { InvoiceState } from '../billing/invoice-state';
import { snapshotFromListedInvoice } from '../billing/repair';
import { type InvoiceSnapshot } from '../billing/snapshot';
import { wallClock } from '../clock';
import { MalformedEventError, RunInterruptedError } from '../errors';
import { isConnectionError } from '../db/connection-errors';
import { applyIsolating } from '../pipeline/apply-batch';
import { errorText } from '../pipeline/types';
import { planObjects } from '../pipeline/apply-objects';
import type { NoticeEffects } from '../effects/notice-effects';
import { invoiceKind } from '../stripe-objects/invoice';
import type { EffectCounts } from '../stripe-objects/object-kind';
import type { BackoffOptions } from '../stripe/with-backoff';
import { createdBetween, listPages, StripeApiError, type WarnLogger } from './stripe-pages';

export interface ImportOptions {
  /** Invoices created in [since, until]. */
  since: Date;
  until?: Date;
  /** Compare and count only: nothing is written. */
  dryRun?: boolean;
}

export interface ImportDeps {
  stripe: Stripe;
  ds: DataSource;
  /**
   * The notice effects. An invoice the import inserts is a baseline: what happened before the
   * import began is recorded, not sent. A change it finds on a row already known is news, as
   * reconcile's repairs are (unless older than NOTICE_MAX_EVENT_AGE_HOURS).
   */
  effects: NoticeEffects;
  logger: WarnLogger;
  progress?: { total(n: number): void; tick(n?: number, note?: string): void };
  backoff?: BackoffOptions;
  /** STRIPE_API_BASE, for error messages. */
  apiBase?: string;
  nowSeconds?: () => number;
}

export interface ImportResult {
  since: string;
  until: string | null;
  dryRun: boolean;
  pages: number;
  listed: number;
  /** New rows (in a dry run: would be), by status. */
  inserted: number;
  insertedByStatus: Record<string, number>;
  /** Rows that existed and took something new from Stripe's state (through the merge, as an event would). */
  updated: number;
  unchanged: number;
  /** Invoices the API returned that cannot become a row. */
  invalid: number;
  /** Notices recorded as not sent: the past of the invoices inserted (`imported`), and old news (`stale`). */
  noticesSkipped: number;
  /** Notices queued to send: what changed since the import began, or since a known row's last event (news). */
  noticesQueued: number;
  invoices: Array<{ invoice: string; action: 'updated' | 'invalid'; status?: string; reason?: string }>;
}

/** The import stopped part way (the API failed after backing off); `partial` says how far it got. */
export class ImportInterruptedError extends RunInterruptedError<ImportResult> {
  override readonly name = 'ImportInterruptedError';
}

interface Listed {
  snapshots: InvoiceSnapshot[];
  invalid: Array<{ invoice: string; reason: string }>;
}

function readPage(invoices: Record<string, unknown>[], fetchedAt: number): Listed {
  const out: Listed = { snapshots: [], invalid: [] };
  for (const invoice of invoices) {
    try {
      out.snapshots.push(snapshotFromListedInvoice(invoice, fetchedAt, 'import'));
    } catch (err) {
      if (!(err instanceof MalformedEventError)) throw err;
      out.invalid.push({ invoice: String(invoice['id'] ?? '(no id)'), reason: err.message });
    }
  }
  return out;
}

interface PageChange {
  previous: InvoiceState | null;
  next: InvoiceState;
  written: boolean;
}

/** What writing the page would do, without writing: the same merge against the rows as they are. */
async function planPage(ds: DataSource, snapshots: readonly InvoiceSnapshot[], now: number): Promise<PageChange[]> {
  return planObjects(ds.manager, { kind: invoiceKind, items: snapshots.map((snapshot, index) => ({ index, snapshot })), now, step: invoiceKind.reduceListed });
}

/**
 * One page in one transaction, through the pipeline's one path: the rows merged as events are,
 * with their notices. An inserted row is a baseline as of the import's start; a change to a known
 * row is news. An invoice the database refuses is applied alone and comes back with the reason, so
 * it holds back none of the page; an unreachable database stops the import (run it again).
 */
async function writePage(
  deps: ImportDeps,
  snapshots: readonly InvoiceSnapshot[],
  now: number,
  startedAt: number,
): Promise<{ changes: PageChange[]; refused: Array<{ invoice: string; reason: string }>; notices: EffectCounts }> {
  const { outcomes, effects } = await applyIsolating(
    deps.ds,
    snapshots.map((snapshot) => ({ kind: invoiceKind, snapshot })),
    {
      now,
      effects: { notices: deps.effects },
      stepOf: (kind) => kind.reduceListed,
      modeOf: (ch) => (ch.previous === null ? { mode: 'baseline', baselineAt: startedAt } : { mode: 'live' }),
      effectsOfWrittenOnly: true,
    },
  );
  const changes: PageChange[] = [];
  const refused: Array<{ invoice: string; reason: string }> = [];
  outcomes.forEach((o, i) => {
    if (o.ok) return changes.push(o.result.change as PageChange);
    if (isConnectionError(o.error)) throw o.error;
    refused.push({ invoice: snapshots[i]!.stripeInvoiceId, reason: `the database refused it: ${errorText(o.error)}` });
  });
  return { changes, refused, notices: effects };
}

/**
 * Brings an account's existing invoices in as the baseline the processor starts from: each
 * invoice created in the window is merged into its row exactly as an event would be (so it never
 * moves a row back). For an invoice it inserts, every notice its past implies is recorded as
 * skipped (`imported`), so no customer is emailed about the past and dunning goes on from the
 * invoice's next step; what happened after the import began (a payment while it ran) is news. A
 * change found on a row already known is news too, as a repair is. Run it again and it changes
 * nothing; stopped part way, run it again to finish.
 */
export async function importInvoices(deps: ImportDeps, o: ImportOptions): Promise<ImportResult> {
  const clock = deps.nowSeconds ?? wallClock;
  // The baseline's moment: what happened at Stripe before it is history, what happened since is news.
  const startedAt = clock();
  const result: ImportResult = {
    since: o.since.toISOString(),
    until: o.until?.toISOString() ?? null,
    dryRun: o.dryRun ?? false,
    pages: 0,
    listed: 0,
    inserted: 0,
    insertedByStatus: {},
    updated: 0,
    unchanged: 0,
    invalid: 0,
    noticesSkipped: 0,
    noticesQueued: 0,
    invoices: [],
  };
  const pages = listPages((p) => deps.stripe.invoices.list({ ...p, created: createdBetween(o.since, o.until) }), {
    path: '/v1/invoices',
    logger: deps.logger,
    nowSeconds: clock,
    ...(deps.backoff ? { backoff: deps.backoff } : {}),
    ...(deps.apiBase ? { apiBase: deps.apiBase } : {}),
  });
  try {
    for await (const page of pages) {
      result.pages++;
      result.listed += page.data.length;
      deps.progress?.total(result.listed);
      const { snapshots, invalid } = readPage(page.data as unknown as Record<string, unknown>[], page.fetchedAt);
      const now = clock();
      const changes = result.dryRun ? await planPage(deps.ds, snapshots, now) : await writePage(deps, snapshots, now, startedAt).then((w) => {
        result.noticesSkipped += w.notices.skipped;
        result.noticesQueued += w.notices.queued;
        invalid.push(...w.refused);
        return w.changes;
      });
      for (const ch of changes) {
        if (!ch.written) result.unchanged++;
        else if (ch.previous === null) {
          result.inserted++;
          result.insertedByStatus[ch.next.status] = (result.insertedByStatus[ch.next.status] ?? 0) + 1;
        } else {
          result.updated++;
          result.invoices.push({ invoice: ch.next.stripeInvoiceId, action: 'updated', status: ch.next.status });
        }
      }
      for (const i of invalid) result.invoices.push({ ...i, action: 'invalid' });
      result.invalid += invalid.length;
      deps.progress?.tick(page.data.length, `${result.listed} listed`);
    }
  } catch (err) {
    if (!(err instanceof StripeApiError)) throw err;
    throw new ImportInterruptedError(
      `${err.message}. ${result.listed} invoice(s) were imported before it stopped; run the same command again to finish (what is already imported stays as it is).`,
      structuredClone(result),
    );
  }
  return result;
}
