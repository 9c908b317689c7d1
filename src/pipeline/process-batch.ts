import type { DataSource } from 'typeorm';
import { MalformedEventError } from '../errors';
import { wallClock } from '../clock';
import { isConnectionError } from '../db/connection-errors';
import { recordFailure } from '../db/event-log';
import { kindOfEvent, kindOfThinEvent } from '../stripe-objects/registry';
import { applyIsolating, eventRecord, identityRecord, type EntryResult } from './apply-batch';
import { applyHealthAlert } from './health-alerts';
import { prepareMessage, type PreparedMessage, type UnusableMessage } from './prepare';
import { errorText, type BatchItem, type BatchOutcome, type FetchObject, type ProcessOptions, type ProcessResult } from './types';

/** One request per object however many events of a batch ask; each caller gets its own copy of the answer. */
function fetchOncePerObject(fetch: FetchObject): FetchObject {
  const asked = new Map<string, ReturnType<FetchObject>>();
  return async (object, id, account) => {
    const key = `${account ?? ''} ${object} ${id}`;
    let answer = asked.get(key);
    if (!answer) asked.set(key, (answer = fetch(object, id, account)));
    const fetched = await answer;
    return fetched && structuredClone(fetched);
  };
}

const kindOfIdentity = (who: UnusableMessage['identity']) => (who.thin ? kindOfThinEvent(who.type) : kindOfEvent(who.type));

/** A verified event that cannot be used still belongs in the event log, with the reason. */
async function recordUnusable(ds: DataSource, { error, identity: who, event }: UnusableMessage, kind: ReturnType<typeof kindOfIdentity>): Promise<void> {
  if (who.id === null || who.type === null) return;
  const reason = error instanceof MalformedEventError ? error.message : errorText(error);
  const invoice = kind && who.objectId !== null && who.object === kind.object ? kind.invoiceOfObjectId(who.objectId) : null;
  await recordFailure(ds.manager, identityRecord({ ...who, id: who.id, type: who.type }, invoice), event, reason).catch(() => undefined);
}

const resultOf = (m: PreparedMessage, r: EntryResult): ProcessResult => ({
  outcome: r.outcome,
  eventId: m.snapshot.eventId,
  type: m.snapshot.eventType,
  object: m.kind.object,
  objectId: m.kind.key(m.snapshot),
  created: m.created,
  ...(r.reapplied ? { reapplied: r.reapplied } : {}),
});

/**
 * A message read ahead of its transaction: its outcome already, when it cannot be applied or was
 * a health alert (both recorded as they were read), or what the transaction applies.
 */
export type ReadMessage = { done: BatchOutcome } | { message: PreparedMessage };

/**
 * The part of a batch that needs no transaction: each message is parsed and validated, its object
 * fetched when the event is thin, a message that cannot be applied is recorded in the event log,
 * and a health alert is applied. The worker reads a receive as it arrives, so this runs beside
 * the transaction of the receives before it rather than inside the next one.
 */
export async function readMessages(ds: DataSource, items: readonly BatchItem[], options: ProcessOptions = {}): Promise<ReadMessage[]> {
  const now = (options.nowSeconds ?? wallClock)();
  // Thin events of one object often arrive together; its state is fetched once per receive (the
  // worker reads each receive on its own, so a group of several receives may ask again).
  const fetchObject = options.fetchObject && fetchOncePerObject(options.fetchObject);
  const preparations = await Promise.all(items.map((item) => prepareMessage(item, fetchObject, now)));
  return Promise.all(
    preparations.map(async (p): Promise<ReadMessage> => {
      if (p.ok && 'alert' in p) return { done: await applyHealthAlert(ds, p.alert.who, p.alert.payload, p.alert.force, options) };
      if (p.ok) return { message: p.message };
      const kind = kindOfIdentity(p.failure.identity);
      await recordUnusable(ds, p.failure, kind);
      const object = kind?.object;
      return { done: { ok: false, error: p.failure.error, ...(object ? { object } : {}) } };
    }),
  );
}

/**
 * Applies messages read by readMessages together: one transaction for all of them (applyBatch),
 * so a batch costs a handful of statements and one commit. If the transaction fails for any reason
 * (one bad event, a lost race), every message is applied again as a batch of its own, so one poison
 * message never fails the others. Each outcome is its message's own: ok only once that message's
 * event has committed. A failure is recorded in the event log, then reported.
 */
export async function applyMessages(ds: DataSource, read: readonly ReadMessage[], options: ProcessOptions = {}): Promise<BatchOutcome[]> {
  const now = (options.nowSeconds ?? wallClock)();
  const outcomes: BatchOutcome[] = new Array(read.length);
  const prepared: Array<{ index: number; m: PreparedMessage }> = [];
  read.forEach((r, index) => {
    if ('done' in r) outcomes[index] = r.done;
    else prepared.push({ index, m: r.message });
  });
  if (prepared.length === 0) return outcomes;
  const { outcomes: applied } = await applyIsolating(
    ds,
    prepared.map(({ m }) => ({ kind: m.kind, snapshot: m.snapshot, event: { payload: m.payload, force: m.force } })),
    { now, effects: options.effects ?? {}, ...(options.onBatchFallback ? { onFallback: options.onBatchFallback } : {}) },
  );
  await Promise.all(
    prepared.map(async ({ index, m }, i) => {
      const a = applied[i]!;
      if (a.ok) return (outcomes[index] = { ok: true, result: resultOf(m, a.result) });
      // An unreachable database would refuse the record too, each after its connection timeout.
      if (!isConnectionError(a.error)) {
        await recordFailure(ds.manager, eventRecord(m.kind, m.snapshot), JSON.parse(m.payload), errorText(a.error)).catch(() => undefined);
      }
      return (outcomes[index] = { ok: false, error: a.error, object: m.kind.object });
    }),
  );
  return outcomes;
}

/**
 * Applies a receive's messages (1 to N) together: readMessages, then applyMessages. A message that
 * cannot be read fails alone before the transaction, recorded in the event log.
 */
export async function processBatch(ds: DataSource, items: readonly BatchItem[], options: ProcessOptions = {}): Promise<BatchOutcome[]> {
  return applyMessages(ds, await readMessages(ds, items, options), options);
}
