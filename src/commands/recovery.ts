import type { Command } from 'commander';
import { EventQueue } from '../ingest/event-queue';
import { redriveDlq } from '../recovery/redrive-dlq';
import { countMatching, replayEvents, type EventFilter } from '../recovery/replay-events';
import { eventState, recentEvents } from '../reports/event-log';
import { queueDepth } from '../reports/stats';
import { eventTypeOption, invoiceIdOption, limitOption, rangeOptions } from './options';
import { withProgress } from './progress';
import { printStats } from './stats';
import { print, UsageError, withServices } from './with-database';

interface ReplayEventsOptions {
  invoice?: string;
  type?: string;
  since?: string;
  until?: string;
  failed?: boolean;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

function eventFilter(o: ReplayEventsOptions): EventFilter {
  const f: EventFilter = {
    invoiceId: invoiceIdOption(o.invoice),
    type: eventTypeOption(o.type),
    ...rangeOptions(o.since, o.until),
    failed: o.failed === true,
    force: o.force === true,
  };
  // The whole log replayed by a slip of the keyboard would re-merge months of events.
  if (f.force && !f.invoiceId && !f.type && !f.since && !f.until) {
    throw new UsageError('--force also replays processed events: narrow it with --invoice, --type, --since or --until');
  }
  return f;
}

async function replayDlqCommand(o: { limit?: string; dryRun?: boolean; json?: boolean }): Promise<void> {
  const limit = o.limit === undefined ? undefined : limitOption(o.limit, 0);
  const result = await withServices({ queue: true, database: false }, ({ queue }) =>
    withProgress('moving', { json: o.json || o.dryRun }, async (bar) => {
      if (bar.active) bar.total(Math.min(limit ?? Infinity, (await queueDepth(queue.sqs, queue.dlqUrl)).visible));
      return redriveDlq(queue.sqs, { queueUrl: queue.url, dlqUrl: queue.dlqUrl }, { limit, dryRun: o.dryRun, onMoved: (n) => bar.update(n) });
    }),
  );
  print(result, o.json ?? false, () => {
    const lines = result.messages.map((m) => `  ${m.eventId ?? '-'}  ${m.type ?? '-'}  ${m.invoiceId ?? '-'}${m.problem ? `  (${m.problem})` : ''}`);
    const head = o.dryRun
      ? `${result.messages.length} message(s) in the dead-letter queue would move (dry run, nothing moved)`
      : `${result.moved} message(s) moved from the dead-letter queue to the queue${result.failed ? `; ${result.failed} refused by the queue, still in the DLQ` : ''}`;
    return [head, ...lines].join('\n');
  });
  if (result.failed > 0) process.exitCode = 1;
}

async function replayEventsCommand(o: ReplayEventsOptions): Promise<void> {
  const filter = eventFilter(o);
  const result = await withServices({ queue: !o.dryRun }, ({ ds, queue }) =>
    withProgress('replaying', { json: o.json || o.dryRun }, async (bar) => {
      if (bar.active) bar.total(await countMatching(ds, filter));
      const target = o.dryRun ? undefined : new EventQueue(queue.sqs, queue.url);
      return replayEvents(ds, target, filter, { dryRun: o.dryRun, onProgress: (n) => bar.update(n) });
    }),
  );
  print(result, o.json ?? false, () => {
    const lines = result.events.map((e) => `  ${e.id}  ${e.type}  ${e.invoiceId ?? '-'}  ${e.created}${e.lastError ? `  last error: ${e.lastError}` : ''}`);
    const errors = result.errors.map((e) => `  not enqueued: ${e.id}: ${e.error}`);
    const head = o.dryRun
      ? `${result.events.length} event(s) would be replayed${filter.force ? ' (forced)' : ''} (dry run, nothing sent)`
      : `${result.enqueued} event(s) re-enqueued${filter.force ? ' (forced)' : ''}${result.failed ? `; ${result.failed} could not be enqueued` : ''}`;
    return [head, ...lines, ...errors].join('\n');
  });
  if (result.failed > 0) process.exitCode = 1;
}

async function eventsCommand(o: { invoice?: string; failed?: boolean; limit?: string; json?: boolean }): Promise<void> {
  const f = { invoiceId: invoiceIdOption(o.invoice), failed: o.failed === true, limit: limitOption(o.limit, 50, 10_000) };
  const rows = await withServices({}, ({ ds }) => recentEvents(ds, f));
  print(rows, o.json ?? false, () =>
    rows.length === 0
      ? 'no events'
      : rows
          .map((e) => `${e.created}  ${e.id}  ${e.type}  ${e.invoiceId ?? '-'}  ${eventState(e)}${e.lastError ? `  ${e.lastError}` : ''}`)
          .join('\n'),
  );
}

export function registerRecoveryCommands(program: Command): void {
  const replay = program.command('replay').description('put events back through the consumer');
  replay
    .command('dlq')
    .description('move dead-lettered messages back to the queue (a message that fails again returns to the DLQ)')
    .option('--limit <n>', 'move at most this many')
    .option('--dry-run', 'list what would move, move nothing')
    .option('--json', 'print JSON')
    .action(replayDlqCommand);
  replay
    .command('events')
    .description('re-enqueue stored events; by default those not processed successfully')
    .option('--invoice <id>', 'only this invoice, in_…')
    .option('--type <type>', 'only this event type, e.g. invoice.paid')
    .option('--since <iso>', 'events created at or after, e.g. 2026-11-01 or 2026-11-01T09:00:00Z')
    .option('--until <iso>', 'events created at or before')
    .option('--failed', 'only events whose last attempt failed')
    .option('--force', 'also events already processed (state converges; no notice is sent twice)')
    .option('--dry-run', 'list what would be sent, send nothing')
    .option('--json', 'print JSON')
    .action(replayEventsCommand);

  program
    .command('events')
    .description('stored Stripe events, newest first')
    .option('--invoice <id>', 'only this invoice, in_…')
    .option('--failed', 'only events whose last attempt failed')
    .option('--limit <n>', 'how many (default 50)')
    .option('--json', 'print JSON')
    .action(eventsCommand);

  program
    .command('stats')
    .description('invoice counts and amounts, overdue totals, queue and DLQ depth, notices, the oldest unprocessed event')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => printStats(o));
}
