import type { DataSource } from 'typeorm';
import { prunablePayloads, prunePayloadBatch } from '../db/event-log';

export interface PruneOptions {
  /** Events processed before this moment lose their payload. */
  processedBefore: Date;
  /** Count what would go, change nothing. */
  dryRun?: boolean;
  /** Events per batch; each batch is one statement in a transaction of its own. Default 1000. */
  batchSize?: number;
  /** Stop after this many events (a sweep's share); the rest waits for the next run. Default: no limit. A dry run counts all. */
  limit?: number;
  onProgress?: (pruned: number) => void;
}

export interface PruneResult {
  /** Events whose payload was removed (on a dry run: would be). */
  pruned: number;
  /** Their payloads' size as stored (compressed), in bytes. */
  bytes: number;
  processedBefore: string;
  dryRun: boolean;
  batches: number;
}

const PRUNE_BATCH_SIZE = 1000;

const DAY_SECONDS = 86_400;

/** The cutoff of a retention of `days`: what was processed before it is past retention. */
export function retentionCutoff(nowSeconds: number, days: number): Date {
  return new Date((nowSeconds - days * DAY_SECONDS) * 1000);
}

/**
 * Removes the payloads of processed events older than the cutoff, batch after batch, until a
 * batch comes back short (nothing left, or only rows a consumer holds right now) or the limit is
 * reached. No batch holds its locks longer than one UPDATE of `batchSize` rows, so consumers
 * counting a late duplicate wait for at most that. Invoices, payments, credit notes, notices and
 * every event's id, type, invoice and times are kept.
 */
export async function pruneEventPayloads(ds: DataSource, o: PruneOptions): Promise<PruneResult> {
  const batchSize = o.batchSize ?? PRUNE_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a whole number of at least 1, got ${batchSize}`);
  if (o.limit !== undefined && (!Number.isSafeInteger(o.limit) || o.limit < 1)) throw new RangeError(`limit must be a whole number of at least 1, got ${o.limit}`);
  const result: PruneResult = { pruned: 0, bytes: 0, processedBefore: o.processedBefore.toISOString(), dryRun: o.dryRun === true, batches: 0 };
  if (o.dryRun) {
    const would = await prunablePayloads(ds.manager, o.processedBefore);
    result.pruned = would.events;
    result.bytes = would.bytes;
    return result;
  }
  for (;;) {
    const want = Math.min(batchSize, (o.limit ?? Infinity) - result.pruned);
    if (want <= 0) return result;
    const batch = await prunePayloadBatch(ds.manager, o.processedBefore, want);
    result.batches++;
    result.pruned += batch.events;
    result.bytes += batch.bytes;
    o.onProgress?.(result.pruned);
    if (batch.events < want) return result;
  }
}
