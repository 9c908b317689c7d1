import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import { knownEventIds } from '../db/event-log';
import { BillingError, RunInterruptedError } from '../errors';
import { identifyEvent } from '../stripe-objects/identify-event';
import { kindOfEvent, OBJECT_KINDS } from '../stripe-objects/registry';
import type { EventQueue } from '../queue/event-queue';
import type { BackoffOptions } from '../stripe/with-backoff';
import { disjointPatterns } from './event-patterns';
import { asAccount, createdBetween, listPages, type WarnLogger } from './stripe-pages';

/** Stripe lists events of the last 30 days only. */
export const EVENT_RETENTION_DAYS = 30;

/** True when `since` reaches further back than Stripe still lists events. */
export function beforeEventRetention(since: Date, now: Date): boolean {
  return now.getTime() - since.getTime() > EVENT_RETENTION_DAYS * 86_400_000;
}

export interface BackfillOptions {
  since: Date;
  until?: Date;
  /** List and compare only: nothing is sent. */
  dryRun?: boolean;
  /**
   * A connected account's events (Connect), listed as that account (Stripe-Account); each is
   * enqueued naming the account, as a Connect endpoint would have delivered it. Absent: the
   * platform's own.
   */
  account?: string;
}

export interface BackfillDeps {
  stripe: Stripe;
  ds: Pick<DataSource, 'query'>;
  /** Not needed for a dry run. */
  queue?: Pick<EventQueue, 'send' | 'ping' | 'queueUrl'>;
  logger: WarnLogger;
  progress?: { total(n: number): void; tick(n?: number, note?: string): void };
  backoff?: BackoffOptions;
  /** STRIPE_API_BASE, for error messages. */
  apiBase?: string;
}

export interface EventRef {
  id: string;
  type: string;
  /** The id of the object the event carries; absent for events skipped as not handled. */
  objectId?: string;
}

export interface BackfillResult {
  since: string;
  until: string | null;
  dryRun: boolean;
  /** The connected account backfilled; null for the platform's own. */
  account: string | null;
  pages: number;
  /** Every event the API returned. */
  listed: number;
  /** Sent to the queue, or in a dry run: would have been. */
  enqueued: number;
  alreadyKnown: number;
  /**
   * Listed under a kind's pattern but carried by no kind (invoice.upcoming, charge.dispute.*,
   * customer.subscription.*): what ingest would have answered and not queued.
   */
  skipped: number;
  ids: { enqueued: EventRef[]; alreadyKnown: EventRef[]; skipped: EventRef[] };
}

/**
 * The queue refused an event mid-way; `partial` says how far the backfill got. Running it again
 * is safe: what was enqueued is skipped as already known.
 */
export class BackfillInterruptedError extends RunInterruptedError<BackfillResult> {
  override readonly name = 'BackfillInterruptedError';
}

/** The queue is not there: found before anything is listed, so nothing is half done. */
export class QueueUnreachableError extends BillingError {
  override readonly name = 'QueueUnreachableError';
  readonly retryable = true;
}

/**
 * What backfill lists, in the registry's order: each kind's pattern, less any another already
 * lists, so no event comes under two. Kinds may share a pattern, or be carried by events another
 * kind's pattern lists (a refund by `charge.refund.updated`, under `charge.*` only: Stripe's
 * `refund.*` matches from the start of the type).
 */
export function eventPatterns(): string[] {
  return disjointPatterns(OBJECT_KINDS.map((k) => k.eventPattern));
}

/**
 * Re-sends the events Stripe holds for [since, until] that the consumer has never seen, through
 * the same queue the webhook fills: every kind's pattern is listed (`invoice.*`, `charge.*`, …)
 * and an event is sent when the registry says a kind carries it, as ingest decides. Each page is
 * checked and enqueued before the next is asked for. Events already queued but not yet processed
 * go again: the consumer treats the second copy as the duplicate it is.
 */
export async function backfill(deps: BackfillDeps, o: BackfillOptions): Promise<BackfillResult> {
  const dryRun = o.dryRun ?? false;
  if (!dryRun) {
    if (!deps.queue) throw new Error('backfill needs a queue unless it is a dry run');
    try {
      await deps.queue.ping();
    } catch (err) {
      throw new QueueUnreachableError(`cannot reach the queue ${deps.queue.queueUrl}: ${(err as Error).name}: ${(err as Error).message}`);
    }
  }
  const result: BackfillResult = {
    since: o.since.toISOString(),
    until: o.until?.toISOString() ?? null,
    dryRun,
    account: o.account ?? null,
    pages: 0,
    listed: 0,
    enqueued: 0,
    alreadyKnown: 0,
    skipped: 0,
    ids: { enqueued: [], alreadyKnown: [], skipped: [] },
  };
  const created = createdBetween(o.since, o.until);
  // Each kind's events as Stripe lists them (`invoice.*`); the registry then says which it handles.
  // The patterns are disjoint, so an event comes once and nothing listed need be remembered.
  for (const type of eventPatterns()) {
    const pages = listPages((p) => deps.stripe.events.list({ ...p, type, created }, asAccount(o.account)), {
      path: '/v1/events',
      logger: deps.logger,
      ...(deps.backoff ? { backoff: deps.backoff } : {}),
      ...(deps.apiBase ? { apiBase: deps.apiBase } : {}),
    });
    for await (const page of pages) await backfillPage(deps, page.data as unknown as Record<string, unknown>[], result);
  }
  return result;
}

/** One listed page: what ingest would have queued of it (the same registry decides), less what is stored already. */
async function backfillPage(deps: BackfillDeps, events: Record<string, unknown>[], result: BackfillResult): Promise<void> {
  result.pages++;
  result.listed += events.length;
  deps.progress?.total(result.listed);
  const handled = new Set(events.filter((e) => kindOfEvent(identifyEvent(e).type) !== null));
  // Stored events, processed or failed, are replay's to resend, not the backfill's.
  const known = await knownEventIds(deps.ds, [...handled].map((e) => e['id'] as string));
  for (const event of events) {
    const who = identifyEvent(event);
    const ref: EventRef = { id: String(event['id']), type: String(event['type']) };
    if (!handled.has(event)) {
      result.skipped++;
      result.ids.skipped.push(ref);
    } else if (known.has(ref.id)) {
      result.alreadyKnown++;
      result.ids.alreadyKnown.push({ ...ref, ...(who.objectId ? { objectId: who.objectId } : {}) });
    } else {
      if (!result.dryRun) await send(deps.queue!, ofAccount(event, result.account), result);
      result.enqueued++;
      result.ids.enqueued.push({ ...ref, ...(who.objectId ? { objectId: who.objectId } : {}) });
    }
    deps.progress?.tick(1, ref.id);
  }
}

/**
 * The event as a Connect endpoint delivers it: naming its connected account. Stripe's Events API
 * read as an account may leave `account` out; without it the consumer would take the event for the
 * platform's own.
 */
function ofAccount(event: Record<string, unknown>, account: string | null): Record<string, unknown> {
  return account === null || typeof event['account'] === 'string' ? event : { ...event, account };
}

async function send(queue: Pick<EventQueue, 'send'>, event: Record<string, unknown>, sofar: BackfillResult): Promise<void> {
  try {
    await queue.send(JSON.stringify(event), event);
  } catch (err) {
    throw new BackfillInterruptedError(
      `${(err as Error).message} (event ${String(event['id'])}; ${sofar.enqueued} enqueued before it). ` +
        'Running the same backfill again is safe: events already stored are skipped and a second copy changes nothing.',
      structuredClone(sofar),
    );
  }
}
