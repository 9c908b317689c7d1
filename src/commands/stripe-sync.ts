import type { Command } from 'commander';
import { outboxEffects } from '../consume/outbox-effects';
import { EventQueue } from '../ingest/event-queue';
import { backfill, beforeEventRetention, EVENT_RETENTION_DAYS } from '../recovery/backfill';
import { reconcile } from '../recovery/reconcile';
import { rangeOptions } from './options';
import { withProgress } from './progress';
import { backfillText, reconcileJson, reconcileText } from './stripe-sync-output';
import { print, UsageError, withServices, type Services } from './with-database';

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

async function runBackfill(flags: SyncFlags): Promise<void> {
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

async function runReconcile(flags: SyncFlags): Promise<void> {
  const { since, until } = range(flags);
  const json = flags.json ?? false;
  const result = await keyScrubbed(() =>
    withServices({ stripe: 'reconcile' }, async (s) => {
      return withProgress(flags.dryRun ? 'comparing invoices' : 'reconciling invoices', { json }, (progress) =>
        reconcile(
          {
            stripe: s.stripe,
            ds: s.ds,
            afterMerge: outboxEffects(s.config.mail.enabledKinds),
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

const ENV_HELP = `
Needs STRIPE_SECRET_KEY (a secret or restricted key that reads events and invoices)
and DATABASE_URL. STRIPE_API_BASE points at another API server (stripe-mock, a test
double).`;

export function registerStripeCommands(program: Command): void {
  program
    .command('backfill')
    .description("after an outage: enqueue the invoice events Stripe still lists (30 days) that were never stored")
    .option('--since <iso>', 'events created at or after this moment (required), e.g. 2026-11-01T09:00:00Z')
    .option('--until <iso>', 'events created at or before this moment (default: now)')
    .option('--dry-run', 'list what would be enqueued; send nothing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `${ENV_HELP} Events go to SQS_QUEUE_URL, or to the embedded queue of a running
\`npm start\`.

Example:
  billing backfill --since 2026-11-03T08:00:00Z --until 2026-11-03T12:00:00Z --dry-run`,
    )
    .action((flags: SyncFlags) => runBackfill(flags));

  program
    .command('reconcile')
    .description("compare invoices with Stripe's API and repair rows that differ (Stripe wins); reports each difference")
    .option('--since <iso>', 'invoices created at or after this moment (required)')
    .option('--until <iso>', 'invoices created at or before this moment (default: now)')
    .option('--dry-run', 'report the differences; write nothing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `${ENV_HELP}

Repairs overwrite the row with Stripe's state and queue the notices the change implies
(each notice is queued once per invoice and kind, however often reconcile runs).

Example:
  billing reconcile --since 2026-10-01 --dry-run`,
    )
    .action((flags: SyncFlags) => runReconcile(flags));
}
