import type { Command } from 'commander';
import { lazy } from './lazy';

const recovery = () => require('../commands/recovery') as typeof import('../commands/recovery');

export function defineRecoveryCommands(program: Command): void {
  const replay = program.command('replay').description('put events back through the consumer');
  replay
    .command('dlq')
    .description('move dead-lettered messages back to the queue (a message that fails again returns to the DLQ)')
    .option('--limit <n>', 'move at most this many')
    .option('--dry-run', 'list what would move, move nothing')
    .option('--json', 'print JSON')
    .action(lazy(recovery, (m) => m.replayDlqCommand));
  replay
    .command('events')
    .description('re-enqueue stored events; by default those not processed successfully')
    .option('--invoice <id>', 'only this invoice, in_…')
    .option('--type <type>', 'only this event type, e.g. invoice.paid or charge.refunded')
    .option('--since <iso>', 'events created at or after, e.g. 2026-11-01 or 2026-11-01T09:00:00Z')
    .option('--until <iso>', 'events created at or before')
    .option('--failed', 'only events whose last attempt failed')
    .option('--account <acct_id>', "only a connected account's events (Stripe Connect), acct_…, or `platform` for the platform's own")
    .option('--force', 'also events already processed (state converges; no notice is sent twice)')
    .option('--dry-run', 'list what would be sent, send nothing')
    .option('--json', 'print JSON')
    .action(lazy(recovery, (m) => m.replayEventsCommand));

  const eventCommands = () => require('../commands/events') as typeof import('../commands/events');
  const events = program
    .command('events')
    .description('stored Stripe events, newest first')
    .option('--invoice <id>', 'only this invoice, in_…')
    .option('--failed', 'only events whose last attempt failed')
    .option('--account <acct_id>', "only a connected account's events (Stripe Connect), acct_…, or `platform` for the platform's own")
    .option('--limit <n>', 'how many (default 50)')
    .option('--json', 'print JSON')
    .action(lazy(eventCommands, (m) => m.eventsCommand));
  const pruneEvents = lazy(eventCommands, (m) => m.pruneEventsCommand);
  events
    .command('prune')
    .description('remove the payloads of processed events older than an age; ids, types and times stay, so a late duplicate is still known')
    .requiredOption('--processed-before <age>', 'processed longer ago than this: 90d, 12h or 2w')
    .option('--dry-run', 'count what would go (events and bytes), change nothing')
    .option('--json', 'print JSON')
    // Commander gives `events`' own options (--json too) to `events` wherever they stand on the line.
    .action((_o: unknown, cmd: Command) => pruneEvents(cmd.optsWithGlobals(), cmd));

  program
    .command('stats')
    .description('invoice counts and amounts, overdue totals, queue and DLQ depth, notices, the oldest unprocessed event')
    .option('--account <acct_id>', "only a connected account's invoices, overdue totals and events (Stripe Connect), acct_…, or `platform` for the platform's own")
    .option('--json', 'print JSON')
    .action(lazy(() => require('../commands/stats') as typeof import('../commands/stats'), (m) => m.printStats));
}
