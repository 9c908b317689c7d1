import { EventQueue } from '../queue/event-queue';
import { redriveDlq } from '../recovery/redrive-dlq';
import { countMatchingEvents, type EventFilter } from '../db/event-log';
import { replayEvents } from '../recovery/replay-events';
import { queueDepth } from '../read-models/stats';
import { kindOfEvent, kindOfThinEvent } from '../stripe-objects/registry';
import { accountScopeOption, invoiceIdOption, limitOption, rangeOptions } from './options';
import { withProgress } from './progress';
import { print, UsageError } from './usage';
import { withServices } from './with-database';

interface ReplayEventsOptions {
  invoice?: string;
  type?: string;
  since?: string;
  until?: string;
  failed?: boolean;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
  account?: string;
}

/** An event type some kind carries (invoice.paid, charge.refunded, credit_note.voided…): the log stores no other. */
function replayTypeOption(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (kindOfEvent(raw) === null && kindOfThinEvent(raw) === null) {
    throw new UsageError(`--type: not an event type this processor keeps, like invoice.paid or charge.refunded`);
  }
  return raw;
}

function eventFilter(o: ReplayEventsOptions): EventFilter {
  const account = accountScopeOption(o.account);
  const f: EventFilter = {
    invoiceId: invoiceIdOption(o.invoice),
    type: replayTypeOption(o.type),
    ...rangeOptions(o.since, o.until),
    failed: o.failed === true,
    force: o.force === true,
    ...(account === undefined ? {} : { account }),
  };
  // The whole log replayed by a slip of the keyboard would re-merge months of events (one account's too).
  if (f.force && !f.invoiceId && !f.type && !f.since && !f.until) {
    throw new UsageError('--force also replays processed events: narrow it with --invoice, --type, --since or --until');
  }
  return f;
}

export async function replayDlqCommand(o: { limit?: string; dryRun?: boolean; json?: boolean }): Promise<void> {
  const limit = o.limit === undefined ? undefined : limitOption(o.limit, 0);
  const result = await withServices({ queue: true, database: false }, ({ queue }) =>
    withProgress('moving', { json: o.json || o.dryRun }, async (bar) => {
      if (bar.active) bar.total(Math.min(limit ?? Infinity, (await queueDepth(queue.sqs, queue.dlqUrl)).visible));
      return redriveDlq(queue.sqs, { queueUrl: queue.url, dlqUrl: queue.dlqUrl }, { limit, dryRun: o.dryRun, onMoved: (n) => bar.update(n) });
    }),
  );
  print(result, o.json ?? false, () => {
    const lines = result.messages.map((m) => `  ${m.eventId ?? '-'}  ${m.type ?? '-'}  ${m.objectId ?? '-'}${m.problem ? `  (${m.problem})` : ''}`);
    const head = o.dryRun
      ? `${result.messages.length} message(s) in the dead-letter queue would move (dry run, nothing moved)`
      : `${result.moved} message(s) moved from the dead-letter queue to the queue${result.failed ? `; ${result.failed} refused by the queue, still in the DLQ` : ''}`;
    return [head, ...lines].join('\n');
  });
  if (result.failed > 0) process.exitCode = 1;
}

export async function replayEventsCommand(o: ReplayEventsOptions): Promise<void> {
  const filter = eventFilter(o);
  const result = await withServices({ queue: !o.dryRun }, ({ ds, queue }) =>
    withProgress('replaying', { json: o.json || o.dryRun }, async (bar) => {
      if (bar.active) bar.total(await countMatchingEvents(ds.manager, filter));
      const target = o.dryRun ? undefined : new EventQueue(queue.sqs, queue.url);
      return replayEvents(ds, target, filter, { dryRun: o.dryRun, onProgress: (n) => bar.update(n) });
    }),
  );
  print(result, o.json ?? false, () => {
    const lines = result.events.map((e) => `  ${e.id}  ${e.type}  ${e.invoiceId ?? '-'}${e.account ? `  ${e.account}` : ''}  ${e.created}${e.lastError ? `  last error: ${e.lastError}` : ''}`);
    const errors = result.errors.map((e) => `  not enqueued: ${e.id}: ${e.error}`);
    const pruned = result.prunedSkipped
      ? [`${result.prunedSkipped} matching event(s) skipped: payload pruned (billing events prune); billing reconcile repairs those invoices from Stripe`]
      : [];
    const head = o.dryRun
      ? `${result.events.length} event(s) would be replayed${filter.force ? ' (forced)' : ''} (dry run, nothing sent)`
      : `${result.enqueued} event(s) re-enqueued${filter.force ? ' (forced)' : ''}${result.failed ? `; ${result.failed} could not be enqueued` : ''}`;
    return [head, ...lines, ...errors, ...pruned].join('\n');
  });
  if (result.failed > 0) process.exitCode = 1;
}

