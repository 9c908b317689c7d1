import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import { isHandledInvoiceEvent } from '../ingest/event-filter';
import type { EventQueue } from '../queue/event-queue';
import type { BackoffOptions } from '../stripe/with-backoff';
import { createdBetween, listPages, type WarnLogger } from './stripe-pages';

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
  /** The invoice the event is about; absent for events skipped as not about an invoice. */
  invoice?: string;
}

export interface BackfillResult {
  since: string;
  until: string | null;
  dryRun: boolean;
  pages: number;
  /** Every event the API returned. */
  listed: number;
  /** Sent to the queue, or in a dry run: would have been. */
  enqueued: number;
  alreadyKnown: number;
  /** Not an invoice event the processor handles (invoice.upcoming, another object), even though listed. */
  skipped: number;
  ids: { enqueued: EventRef[]; alreadyKnown: EventRef[]; skipped: EventRef[] };
}

/** The queue refused an event mid-way; `partial` says how far the backfill got. */
export class BackfillInterruptedError extends Error {
  override readonly name = 'BackfillInterruptedError';
  constructor(
    message: string,
    readonly partial: BackfillResult,
  ) {
    super(message);
  }
}

/** The queue is not there: found before anything is listed, so nothing is half done. */
export class QueueUnreachableError extends Error {
  override readonly name = 'QueueUnreachableError';
}


/** The ids among these that the consumer has already stored (processed or failed: replay handles those). */
async function knownIds(ds: Pick<DataSource, 'query'>, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows: { id: string }[] = await ds.query(`SELECT id FROM stripe_events WHERE id = ANY($1::text[])`, [ids]);
  return new Set(rows.map((r) => r.id));
}

/**
 * Re-sends the invoice events Stripe holds for [since, until] that the consumer has never seen,
 * through the same queue the webhook fills. Each page is checked and enqueued before the next is
 * asked for. Events already queued but not yet processed go again: the consumer treats the second
 * copy as the duplicate it is.
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
    pages: 0,
    listed: 0,
    enqueued: 0,
    alreadyKnown: 0,
    skipped: 0,
    ids: { enqueued: [], alreadyKnown: [], skipped: [] },
  };
  const created = createdBetween(o.since, o.until);
  const pages = listPages((p) => deps.stripe.events.list({ ...p, type: 'invoice.*', created }), {
    path: '/v1/events',
    logger: deps.logger,
    ...(deps.backoff ? { backoff: deps.backoff } : {}),
    ...(deps.apiBase ? { apiBase: deps.apiBase } : {}),
  });

  for await (const page of pages) {
    result.pages++;
    result.listed += page.data.length;
    deps.progress?.total(result.listed);
    const events = page.data as unknown as Record<string, unknown>[];
    const handled = new Set(events.filter(isHandledInvoiceEvent));
    const known = await knownIds(deps.ds, [...handled].map((e) => e['id'] as string));
    for (const event of events) {
      const ref: EventRef = { id: String(event['id']), type: String(event['type']) };
      if (!handled.has(event)) {
        result.skipped++;
        result.ids.skipped.push(ref);
      } else if (known.has(ref.id)) {
        result.alreadyKnown++;
        result.ids.alreadyKnown.push({ ...ref, invoice: invoiceIdOf(event) });
      } else {
        if (!dryRun) await send(deps.queue!, event, result);
        result.enqueued++;
        result.ids.enqueued.push({ ...ref, invoice: invoiceIdOf(event) });
      }
      deps.progress?.tick(1, ref.id);
    }
  }
  return result;
}

function invoiceIdOf(event: Record<string, unknown>): string {
  return String((event['data'] as { object: { id: string } }).object.id);
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
