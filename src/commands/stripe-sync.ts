import type Stripe from 'stripe';
import { noticeEffects, noticePolicy } from '../effects/notice-effects';
import { EventQueue } from '../queue/event-queue';
import { backfill, beforeEventRetention, EVENT_RETENTION_DAYS } from '../recovery/backfill';
import { importInvoices } from '../recovery/import';
import { reconcile } from '../recovery/reconcile';
import { repairPendingAlerts, type AlertReport } from '../recovery/health-repair';
import { accountOption, rangeOptions } from './options';
import { withProgress, type Progress } from './progress';
import { alertsText, backfillText, importText, reconcileJson, reconcileText } from './stripe-sync-output';
import { print, UsageError } from './usage';
import { withServices, type Needs, type Services } from './with-database';

interface SyncFlags {
  since?: string;
  until?: string;
  dryRun?: boolean;
  json?: boolean;
  /** reconcile only: repair the objects of Stripe's health alerts not repaired yet. */
  alerts?: boolean;
  /** A connected account (acct_…) whose objects or events to read, as that account. */
  account?: string;
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

/** What every command that reads Stripe's API hands its work: the services, and the API's manners. */
interface SyncContext {
  s: Services;
  common: { stripe: Stripe; ds: Services['ds']; logger: Services['logger']; progress: Progress; backoff: typeof BACKOFF; apiBase?: string };
  window: { since: Date; until?: Date; dryRun: boolean; account?: string };
}

/**
 * Runs one of the commands that read Stripe's API: the window from the flags, the services it
 * needs (STRIPE_SECRET_KEY checked before anything starts), a progress bar while it runs, and
 * errors that never carry the key.
 */
async function runSync<T>(flags: SyncFlags, what: string, labels: [dryRun: string, run: string], needs: Needs, run: (c: SyncContext) => Promise<T>): Promise<T> {
  const { since, until } = range(flags);
  const account = accountOption(flags.account);
  const dryRun = flags.dryRun ?? false;
  return keyScrubbed(() =>
    withServices({ ...needs, stripe: what }, (s) =>
      withProgress(dryRun ? labels[0] : labels[1], { json: flags.json ?? false }, (progress) =>
        run({
          s,
          common: { stripe: s.stripe, ds: s.ds, logger: s.logger, progress, backoff: BACKOFF, ...apiBase(s) },
          window: { since, ...(until ? { until } : {}), dryRun, ...(account ? { account } : {}) },
        }),
      ),
    ),
  );
}

export async function runBackfill(flags: SyncFlags): Promise<void> {
  const since = range(flags).since;
  accountOption(flags.account);
  if (beforeEventRetention(since, new Date())) {
    const days = Math.floor((Date.now() - since.getTime()) / 86_400_000);
    process.stderr.write(
      `billing: warning: --since is ${days} days ago, but Stripe lists events of the last ${EVENT_RETENTION_DAYS} days only; ` +
        'older changes are not backfilled (billing reconcile compares invoices themselves)\n',
    );
  }
  const result = await runSync(flags, 'backfill', ['listing events', 'backfilling events'], { queue: !flags.dryRun }, ({ s, common, window }) =>
    backfill({ ...common, ...(window.dryRun ? {} : { queue: new EventQueue(s.queue.sqs, s.queue.url) }) }, window),
  );
  print(result, flags.json ?? false, () => backfillText(result));
}

export async function runReconcile(flags: SyncFlags): Promise<void> {
  accountOption(flags.account);
  if (flags.alerts && flags.since === undefined) {
    if (flags.until !== undefined) throw new UsageError('--until needs --since');
    // Each alert is repaired as the account it names; --account picks a range's invoices.
    if (flags.account !== undefined) throw new UsageError("--account needs --since: each health alert is repaired as the connected account it names");
    const alerts = await runAlertRepair(flags);
    print({ alerts }, flags.json ?? false, () => alertsText(alerts, flags.dryRun ?? false));
    return;
  }
  const alerts = flags.alerts ? await runAlertRepair(flags) : undefined;
  const result = await runSync(flags, 'reconcile', ['comparing invoices', 'reconciling invoices'], {}, ({ s, common, window }) =>
    reconcile({ ...common, effects: noticeEffects(noticePolicy(s.config)) }, window),
  );
  print({ ...reconcileJson(result), ...(alerts ? { alerts } : {}) }, flags.json ?? false, () =>
    [...(alerts ? [alertsText(alerts, result.dryRun)] : []), reconcileText(result)].join('\n'),
  );
}

/** The health alerts' repair, with the services and manners of the other Stripe commands. */
function runAlertRepair(flags: SyncFlags): Promise<AlertReport[]> {
  return keyScrubbed(() =>
    withServices({ stripe: 'reconcile' }, (s) =>
      repairPendingAlerts({ stripe: s.stripe, ds: s.ds, logger: s.logger, backoff: BACKOFF, ...apiBase(s), effects: noticeEffects(noticePolicy(s.config)) }, { dryRun: flags.dryRun ?? false }),
    ),
  );
}

export async function runImport(flags: SyncFlags): Promise<void> {
  const result = await runSync(flags, 'import', ['comparing invoices', 'importing invoices'], {}, ({ s, common, window }) =>
    importInvoices({ ...common, effects: noticeEffects(noticePolicy(s.config)) }, window),
  );
  print(result, flags.json ?? false, () => importText(result));
}
