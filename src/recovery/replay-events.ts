import type { DataSource } from 'typeorm';
import { matchingEvents, prunedMatchingEvents, type EventFilter, type ReplayableEvent } from '../db/event-log';
import { REPLAY_ATTRIBUTE } from '../queue/replay-attribute';
import type { EventQueue } from '../queue/event-queue';

export interface ReplayCandidate {
  id: string;
  type: string;
  invoiceId: string | null;
  created: string;
  processedAt: string | null;
  lastError: string | null;
  /** The connected account the event is of (Stripe Connect); null for the platform's own. */
  account: string | null;
}

export interface ReplayResult {
  enqueued: number;
  failed: number;
  dryRun: boolean;
  events: ReplayCandidate[];
  errors: Array<{ id: string; error: string }>;
  /** Matching events left out because their payload was pruned (a forced replay would have sent them). */
  prunedSkipped: number;
}

const candidate = (r: ReplayableEvent): ReplayCandidate => ({
  id: r.id,
  type: r.type,
  invoiceId: r.stripe_invoice_id,
  created: r.created.toISOString(),
  processedAt: r.processed_at?.toISOString() ?? null,
  lastError: r.last_error,
  account: r.stripe_account_id,
});

/** Sends in flight at once: enough to fill SendMessageBatch calls, few enough to stay polite. */
const SENDS_IN_FLIGHT = 16;

/**
 * Puts stored events back on the queue as the webhook would have. With force, the message says
 * so and the consumer merges an already processed event again; the merge is a join and the
 * outbox keys are unique, so the state converges and no notice goes out twice.
 */
export async function replayEvents(
  ds: DataSource,
  /** Unused, and may be absent, on a dry run. */
  queue: EventQueue | undefined,
  f: EventFilter,
  o: { dryRun?: boolean; onProgress?: (done: number) => void } = {},
): Promise<ReplayResult> {
  if (!o.dryRun && !queue) throw new TypeError('replayEvents: a queue is needed unless dryRun');
  const result: ReplayResult = { enqueued: 0, failed: 0, dryRun: o.dryRun === true, events: [], errors: [], prunedSkipped: 0 };
  if (f.force) result.prunedSkipped = (await prunedMatchingEvents(ds.manager, f)).count;
  const attributes: Record<string, string> = f.force ? { [REPLAY_ATTRIBUTE]: 'force' } : {};
  for await (const page of matchingEvents(ds.manager, f)) {
    if (o.dryRun) {
      result.events.push(...page.map(candidate));
      continue;
    }
    for (let i = 0; i < page.length; i += SENDS_IN_FLIGHT) {
      await Promise.all(
        page.slice(i, i + SENDS_IN_FLIGHT).map(async (r) => {
          try {
            await queue!.send(r.payload, JSON.parse(r.payload) as Record<string, unknown>, attributes);
            result.enqueued++;
            result.events.push(candidate(r));
          } catch (err) {
            result.failed++;
            result.errors.push({ id: r.id, error: (err as Error).message });
          }
        }),
      );
      o.onProgress?.(result.enqueued + result.failed);
    }
  }
  return result;
}
