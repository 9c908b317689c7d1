import type { DataSource } from 'typeorm';
import { wallClock } from '../clock';
import { isConnectionError } from '../db/connection-errors';
import { claimEventsProcessed, markAllProcessed } from '../db/event-log';
import { sqlClientOf } from '../db/sql-client';
import type { FetchInvoice } from '../stripe/thin-events';
import { mergeSnapshots } from './merge-snapshots';
import {
  applyMessage,
  liveChange,
  prepareMessage,
  resultBase,
  type PreparedMessage,
  type ProcessOptions,
  type ProcessResult,
} from './process-event';

export interface BatchItem {
  body: string;
  /** Merge even an event already processed (`replay events --force`). */
  force: boolean;
}

export type BatchOutcome = { ok: true; result: ProcessResult } | { ok: false; error: unknown };

/**
 * A receive's messages in one transaction, leaving the rows that processing them one by one in
 * order would leave: each event is claimed, each invoice locked once (its key first, see
 * lockInvoiceKeys) and merged with all its events of the batch, written once, then the effects
 * run and every claimed event is marked.
 */
async function applyBatch(ds: DataSource, msgs: PreparedMessage[], options: ProcessOptions, now: number): Promise<ProcessResult[]> {
  return ds.transaction('READ COMMITTED', async (db) => {
    const c = await sqlClientOf(db);
    // The first message of an event id counts; a second copy in the same receive is its duplicate.
    const first = new Map<string, number>();
    msgs.forEach((m, i) => first.has(m.snapshot.eventId) || first.set(m.snapshot.eventId, i));
    const claims = await claimEventsProcessed(c, [...first.values()].map((i) => msgs[i]!));
    const merging: Array<{ index: number; p: PreparedMessage }> = [];
    msgs.forEach((p, index) => {
      const claim = claims.get(p.snapshot.eventId);
      if (claim === undefined) throw new Error(`event ${p.snapshot.eventId} was neither inserted nor found`);
      if (first.get(p.snapshot.eventId) === index && (claim !== 'done' || p.force)) merging.push({ index, p });
    });

    const changes = await mergeSnapshots(c, merging.map((m) => ({ index: m.index, snapshot: m.p.snapshot })), now);
    if (options.afterMerge) await options.afterMerge(db, changes.map(liveChange), now);
    await markAllProcessed(
      c,
      merging.filter((m) => claims.get(m.p.snapshot.eventId) !== 'new').map((m) => m.p.snapshot.eventId),
    );

    const written = new Map(changes.map((ch) => [ch.index, ch.written]));
    return msgs.map((p, i) => {
      const w = written.get(i);
      return { ...resultBase(p.snapshot), outcome: w === undefined ? ('duplicate' as const) : w ? ('merged' as const) : ('unchanged' as const) };
    });
  });
}

/** One request per invoice however many events ask; each caller gets its own copy of the answer. */
function fetchOncePerInvoice(fetch: FetchInvoice): FetchInvoice {
  const asked = new Map<string, ReturnType<FetchInvoice>>();
  return async (id) => {
    let answer = asked.get(id);
    if (!answer) asked.set(id, (answer = fetch(id)));
    const invoice = await answer;
    return invoice && structuredClone(invoice);
  };
}

/**
 * Processes a receive's messages together: one transaction for all of them, so a batch costs
 * a handful of statements and one commit instead of a transaction per event. A message that
 * cannot be parsed fails alone before the transaction. If the transaction fails for any other
 * reason (one bad event, a lost race), every message gets its own transaction, as processMessage
 * would give it, so one bad message never fails the others. Each outcome is its message's own:
 * ok only once that message's event has committed.
 */
export async function processBatch(ds: DataSource, items: readonly BatchItem[], options: ProcessOptions = {}): Promise<BatchOutcome[]> {
  const now = (options.nowSeconds ?? wallClock)();
  // Thin events of one invoice often arrive together; its state as of this batch is fetched once.
  const fetchInvoice = options.fetchInvoice && fetchOncePerInvoice(options.fetchInvoice);
  const prepareOptions = fetchInvoice ? { ...options, fetchInvoice } : options;
  const outcomes: BatchOutcome[] = new Array(items.length);
  const prepared: Array<{ index: number; p: PreparedMessage }> = [];
  await Promise.all(
    items.map(async (item, index) => {
      try {
        prepared.push({ index, p: await prepareMessage(ds, item.body, prepareOptions, now, { force: item.force }) });
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    }),
  );
  prepared.sort((a, b) => a.index - b.index);
  const one = async ({ index, p }: { index: number; p: PreparedMessage }) => {
    try {
      outcomes[index] = { ok: true, result: await applyMessage(ds, p, options, now) };
    } catch (error) {
      outcomes[index] = { ok: false, error };
    }
  };
  if (prepared.length === 1) await one(prepared[0]!);
  else if (prepared.length > 1) {
    try {
      const results = await applyBatch(ds, prepared.map((x) => x.p), options, now);
      prepared.forEach((x, i) => (outcomes[x.index] = { ok: true, result: results[i]! }));
    } catch (error) {
      // Unreachable database: each message alone would fail the same way.
      if (isConnectionError(error)) for (const x of prepared) outcomes[x.index] = { ok: false, error };
      else {
        options.onBatchFallback?.(error, prepared.length);
        await Promise.all(prepared.map(one));
      }
    }
  }
  return outcomes;
}
