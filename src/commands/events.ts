import { wallClock } from '../clock';
import { prunablePayloads } from '../db/event-log';
import { eventState, recentEvents } from '../read-models/event-log';
import { pruneEventPayloads } from '../sweep/event-payload-retention';
import { accountScopeOption, durationSeconds, invoiceIdOption, limitOption } from './options';
import { withProgress } from './progress';
import { print, UsageError } from './usage';
import { withServices } from './with-database';

export async function eventsCommand(o: { invoice?: string; failed?: boolean; limit?: string; json?: boolean; account?: string }): Promise<void> {
  const f = { invoiceId: invoiceIdOption(o.invoice), failed: o.failed === true, limit: limitOption(o.limit, 50, 10_000), account: accountScopeOption(o.account) };
  const rows = await withServices({}, ({ ds }) => recentEvents(ds, f));
  // A connected account's events say whose they are; the platform's own stay as they always read.
  const of = (e: { account: string | null }) => (e.account ? `  ${e.account}` : '');
  print(rows, o.json ?? false, () =>
    rows.length === 0
      ? 'no events'
      : rows
          .map((e) => `${e.created}  ${e.id}  ${e.type}  ${e.invoiceId ?? '-'}${of(e)}  ${eventState(e)}${e.lastError ? `  ${e.lastError}` : ''}`)
          .join('\n'),
  );
}

/** As EVENT_PAYLOAD_RETENTION_DAYS allows at most. */
const MAX_AGE_SECONDS = 36_500 * 86_400;
const AGE_HELP = 'an age like 90d, 12h or 2w: a whole number of at least 1 then h (hours), d (days) or w (weeks), at most 36500d';

/** `--processed-before 90d`: the moment that long before now. */
export function processedBeforeOption(raw: string | undefined, nowSeconds: number): Date {
  if (raw === undefined) throw new UsageError(`--processed-before is required: ${AGE_HELP}`);
  const seconds = durationSeconds(raw, 'hdw');
  if (seconds === null || seconds < 3600 || seconds > MAX_AGE_SECONDS) throw new UsageError(`--processed-before: ${AGE_HELP}`);
  return new Date((nowSeconds - seconds) * 1000);
}

/** Bytes for a person: 512 B, 1.5 KiB, 12.3 MiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

interface PruneCommandOptions {
  processedBefore?: string;
  dryRun?: boolean;
  json?: boolean;
  // `billing events`' own options: commander hands them over when given after `prune` too.
  invoice?: string;
  failed?: boolean;
  limit?: string;
  account?: string;
}

export async function pruneEventsCommand(o: PruneCommandOptions): Promise<void> {
  const foreign = (['invoice', 'failed', 'limit', 'account'] as const).filter((k) => o[k] !== undefined);
  if (foreign.length > 0) {
    const which = foreign.length === 1 ? 'an option' : 'options';
    throw new UsageError(`${foreign.map((k) => `--${k}`).join(', ')}: ${which} of \`billing events\`, not of \`billing events prune\`, which prunes every processed event older than --processed-before`);
  }
  const processedBefore = processedBeforeOption(o.processedBefore, wallClock());
  const json = o.json ?? false;
  const result = await withServices({}, ({ ds }) =>
    withProgress('pruning', { json: json || o.dryRun }, async (bar) => {
      if (bar.active) bar.total((await prunablePayloads(ds.manager, processedBefore)).events);
      return pruneEventPayloads(ds, { processedBefore, dryRun: o.dryRun, onProgress: (n) => bar.update(n) });
    }),
  );
  print(result, json, () => {
    const before = `processed before ${result.processedBefore}`;
    if (result.dryRun) return `${result.pruned} event(s) ${before} would lose their payload: ${formatBytes(result.bytes)} as stored (dry run, nothing changed)`;
    if (result.pruned === 0) return `no event ${before} has a payload left to prune`;
    return `pruned the payloads of ${result.pruned} event(s) ${before}: ${formatBytes(result.bytes)} as stored, in ${result.batches} batch(es); ids, types and times are kept`;
  });
}
