import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import type { InvoiceState } from '../billing/invoice-state';
import { snapshotFromListedInvoice } from '../billing/repair';
import { type InvoiceSnapshot } from '../billing/snapshot';
import { wallClock } from '../clock';
import { MalformedEventError, RunInterruptedError } from '../errors';
import type { NoticeEffects } from '../effects/notice-effects';
import { invoiceKind } from '../stripe-objects/invoice';
import type { BackoffOptions } from '../stripe/with-backoff';
import { fetchInvoiceMoney, finalizedInvoiceIds } from './invoice-money';
import { applyListed, readFetched, type ListedEntry } from './listed-objects';
import { emptyTally, tallyRelated, type RelatedCounts } from './related-tally';
import { asAccount, apiManners, createdBetween, listPages, StripeApiError, type WarnLogger } from './stripe-pages';

export interface ImportOptions {
  /** Invoices created in [since, until], each with all its payments, charges and credit notes, whenever those were created. */
  since: Date;
  until?: Date;
  /** Compare and count only: nothing is written. */
  dryRun?: boolean;
  /** A connected account's invoices (Connect), read as that account (Stripe-Account); absent: the platform's own. */
  account?: string;
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
  /** The connected account imported; null for the platform's own. */
  account: string | null;
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
  /** The money behind the invoices listed, by kind (invoice_payment, charge, refund, credit_note): counted as the invoices are. */
  related: Record<string, ImportedCounts>;
  /** Each related object updated or invalid, as `invoices` lists the invoices. */
  objects: Array<{ object: string; id: string; action: 'updated' | 'invalid'; reason?: string }>;
}

export interface ImportedCounts {
  listed: number;
  inserted: number;
  updated: number;
  unchanged: number;
  invalid: number;
}

const asImported = (c: RelatedCounts): ImportedCounts => ({ listed: c.listed, inserted: c.inserted, updated: c.changed, unchanged: c.unchanged, invalid: c.invalid });

/** The import stopped part way (the API failed after backing off); `partial` says how far it got. */
export class ImportInterruptedError extends RunInterruptedError<ImportResult> {
  override readonly name = 'ImportInterruptedError';
}

interface Listed {
  snapshots: InvoiceSnapshot[];
  invalid: Array<{ invoice: string; reason: string }>;
}

function readPage(invoices: Record<string, unknown>[], fetchedAt: number, account: string | null): Listed {
  const out: Listed = { snapshots: [], invalid: [] };
  for (const invoice of invoices) {
    try {
      out.snapshots.push(snapshotFromListedInvoice(invoice, fetchedAt, 'import', account));
    } catch (err) {
      if (!(err instanceof MalformedEventError)) throw err;
      out.invalid.push({ invoice: String(invoice['id'] ?? '(no id)'), reason: err.message });
    }
  }
  return out;
}

/**
 * Brings an account's existing invoices in as the baseline the processor starts from, with the
 * money behind them: for each page of invoices created in the window, each finalized invoice's
 * payments and credit notes, and the charges those payments point to (with the refunds a charge
 * carries), all merged into their rows exactly as events would be (so nothing moves a row back),
 * one page in one transaction. For a row it inserts, every notice its past implies is recorded as
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
    account: o.account ?? null,
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
    related: {},
    objects: [],
  };
  const related = emptyTally();
  const api = apiManners(deps, clock);
  const account = result.account;
  const pages = listPages((p) => deps.stripe.invoices.list({ ...p, created: createdBetween(o.since, o.until) }, asAccount(account)), { path: '/v1/invoices', ...api });
  const finish = () => {
    result.related = Object.fromEntries(Object.entries(related.counts).map(([k, c]) => [k, asImported(c)]));
    result.objects = related.changes
      .filter((c) => c.action !== 'inserted')
      .map((c) => (c.action === 'invalid' ? { object: c.object, id: c.id, action: 'invalid', reason: c.reason } : { object: c.object, id: c.id, action: 'updated' }));
    return result;
  };
  try {
    for await (const page of pages) {
      deps.progress?.total(result.listed + page.data.length);
      const { snapshots, invalid } = readPage(page.data as unknown as Record<string, unknown>[], page.fetchedAt, account);
      const money = await fetchInvoiceMoney({ stripe: deps.stripe, ...api, account }, finalizedInvoiceIds(snapshots));
      const fetched = readFetched(money.objects, 'import', account);
      const entries: ListedEntry[] = [...snapshots.map((snapshot) => ({ kind: invoiceKind, snapshot })), ...fetched.entries];
      const { outcomes, effects } = await applyListed(deps.ds, entries, {
        now: clock(),
        startedAt,
        effects: { notices: deps.effects },
        stepOf: (kind) => kind.reduceListed,
        dryRun: result.dryRun,
      });
      result.pages++;
      result.listed += page.data.length;
      result.noticesSkipped += effects.skipped;
      result.noticesQueued += effects.queued;
      snapshots.forEach((snapshot, i) => {
        const out = outcomes[i]!;
        if (!out.ok) return invalid.push({ invoice: snapshot.stripeInvoiceId, reason: out.reason });
        const ch = out.change as { previous: InvoiceState | null; next: InvoiceState; written: boolean };
        if (!ch.written) result.unchanged++;
        else if (ch.previous === null) {
          result.inserted++;
          result.insertedByStatus[ch.next.status] = (result.insertedByStatus[ch.next.status] ?? 0) + 1;
        } else {
          result.updated++;
          result.invoices.push({ invoice: ch.next.stripeInvoiceId, action: 'updated', status: ch.next.status });
        }
        return undefined;
      });
      for (const i of invalid) result.invoices.push({ ...i, action: 'invalid' });
      result.invalid += invalid.length;
      tallyRelated(related, fetched.entries, outcomes.slice(snapshots.length), [...fetched.invalid, ...money.missing]);
      deps.progress?.tick(page.data.length, `${result.listed} listed`);
    }
  } catch (err) {
    if (!(err instanceof StripeApiError)) throw err;
    throw new ImportInterruptedError(
      `${err.message}. ${result.listed} invoice(s) were imported before it stopped; run the same command again to finish (what is already imported stays as it is).`,
      structuredClone(finish()),
    );
  }
  return finish();
}
