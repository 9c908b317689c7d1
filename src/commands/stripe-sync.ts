import { noticeEffects, noticePolicy } from '../consume/notice-effects';
import { EventQueue } from '../ingest/event-queue';
import { backfill, beforeEventRetention, EVENT_RETENTION_DAYS } from '../recovery/backfill';
import { importInvoices } from '../recovery/import';
import { reconcile } from '../recovery/reconcile';
import { rangeOptions } from './options';
import { withProgress } from './progress';
import { backfillText, importText, reconcileJson, reconcileText } from './stripe-sync-output';
import { print, UsageError } from './usage';
import { withServices, type Services } from './with-database';

interface SyncFlags {
  since?: string;
  until?: string;
  dryRun?: boolean;
  json?: boolean;
}

/**
 * Retries back off from 0.5 s to 8 s, about 15 s in all: long enough for a rate limit or a
 * brief 5xx to pass, short enough that a wrong STRIPE_API_BASE fails while someone is watching.
 */
const BACKOFF = { attempts: 6, baseMs: 500, maxMs: 8000 };

function range(flags: SyncFlags): { since: Date; until?: Date } {
  if (flags.since === undefined) throw new UsageError('--since is required: an ISO 8601 moment such as 2026-11-01 or 2026-11-01T09:30:00Z');
  const { since, until } = rangeOptions(flags.since, flags.until);
  return { since: since!, ...(until ? { until } : {}) };
}

const apiBase = (s: Services) => (s.config.stripe.apiBase ? { apiBase: s.config.stripe.apiBase } : {});

/** Errors pass through unchanged but for the API key, should any layer ever echo it. */
async function keyScrubbed<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const key = process.env['STRIPE_SECRET_KEY']?.trim();
    if (key && err instanceof Error && err.message.includes(key)) err.message = err.message.split(key).join('[redacted]');
    throw err;
  }
}

export async function runBackfill(flags: SyncFlags): Promise<void> {
  const { since, until } = range(flags);
  const json = flags.json ?? false;
  if (beforeEventRetention(since, new Date())) {
    const days = Math.floor((Date.now() - since.getTime()) / 86_400_000);
    process.stderr.write(
      `billing: warning: --since is ${days} days ago, but Stripe lists events of the last ${EVENT_RETENTION_DAYS} days only; ` +
        'older changes are not backfilled (billing reconcile compares invoices themselves)\n',
    );
  }
  const result = await keyScrubbed(() =>
    withServices({ queue: !flags.dryRun, stripe: 'backfill' }, async (s) => {
      return withProgress(flags.dryRun ? 'listing events' : 'backfilling events', { json }, (progress) =>
        backfill(
          {
            stripe: s.stripe,
            ds: s.ds,
            ...(flags.dryRun ? {} : { queue: new EventQueue(s.queue.sqs, s.queue.url) }),
            logger: s.logger,
            progress,
            backoff: BACKOFF,
            ...apiBase(s),
          },
          { since, ...(until ? { until } : {}), dryRun: flags.dryRun ?? false },
        ),
      );
    }),
  );
  print(result, json, () => backfillText(result));
}

export async function runReconcile(flags: SyncFlags): Promise<void> {
  const { since, until } = range(flags);
  const json = flags.json ?? false;
  const result = await keyScrubbed(() =>
    withServices({ stripe: 'reconcile' }, async (s) => {
      return withProgress(flags.dryRun ? 'comparing invoices' : 'reconciling invoices', { json }, (progress) =>
        reconcile(
          {
            stripe: s.stripe,
            ds: s.ds,
            afterMerge: noticeEffects(noticePolicy(s.config)),
            logger: s.logger,
            progress,
            backoff: BACKOFF,
            ...apiBase(s),
          },
          { since, ...(until ? { until } : {}), dryRun: flags.dryRun ?? false },
        ),
      );
    }),
  );
  print(reconcileJson(result), json, () => reconcileText(result));
}

export async function runImport(flags: SyncFlags): Promise<void> {
  const { since, until } = range(flags);
  const json = flags.json ?? false;
  const result = await keyScrubbed(() =>
    withServices({ stripe: 'import' }, async (s) => {
      return withProgress(flags.dryRun ? 'comparing invoices' : 'importing invoices', { json }, (progress) =>
        importInvoices(
          {
            stripe: s.stripe,
            ds: s.ds,
            effects: noticeEffects(noticePolicy(s.config)),
            logger: s.logger,
            progress,
            backoff: BACKOFF,
            ...apiBase(s),
          },
          { since, ...(until ? { until } : {}), dryRun: flags.dryRun ?? false },
        ),
      );
    }),
  );
  print(result, json, () => importText(result));
}
