import type { Command } from 'commander';
import { noticeEffects, noticePolicy } from '../consume/notice-effects';
import { EventQueue } from '../ingest/event-queue';
import { backfill, beforeEventRetention, EVENT_RETENTION_DAYS } from '../recovery/backfill';
import { importInvoices } from '../recovery/import';
import { reconcile } from '../recovery/reconcile';
import { rangeOptions } from './options';
import { withProgress } from './progress';
import { backfillText, importText, reconcileJson, reconcileText } from './stripe-sync-output';
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

async function runImport(flags: SyncFlags): Promise<void> {
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
    .command('import')
    .description("adopting an account: bring in its existing invoices as the baseline, emailing no one about them")
    .option('--since <iso>', 'invoices created at or after this moment (required), e.g. 2025-01-01')
    .option('--until <iso>', 'invoices created at or before this moment (default: now)')
    .option('--dry-run', 'count what would be inserted and updated; write nothing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `${ENV_HELP}

Each invoice is merged into its row as an event would be (never moving a row back), and every
email it implies is recorded as skipped (imported): customers hear only of what happens from
now on, and overdue reminders continue from each invoice's next step. Running it again changes
nothing; if it stops part way, run the same command again to finish.

Example:
  billing import --since 2025-01-01 --dry-run`,
    )
    .action((flags: SyncFlags) => runImport(flags));

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

Repairs overwrite the row with Stripe's state and queue the notices the repaired transition
implies (each once per invoice and kind, however often reconcile runs; one about something
older than NOTICE_MAX_EVENT_AGE_HOURS is recorded as skipped, stale). Rows it has to insert are
a baseline, as with import: their notices are recorded as skipped (imported), none is sent.

Example:
  billing reconcile --since 2026-10-01 --dry-run`,
    )
    .action((flags: SyncFlags) => runReconcile(flags));
}
