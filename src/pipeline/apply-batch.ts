import type { DataSource } from 'typeorm';
import { isConnectionError } from '../db/connection-errors';
import { claimEventsProcessed, markAllProcessed, type Claim, type EventRecord } from '../db/event-log';
import { lockObjectNames, objectLockName } from '../db/object-locks';
import { readCommitted } from '../db/read-committed';
import { sqlClientOf } from '../db/sql-client';
import type { AnyObjectKind, Change, ChangeMode, EffectCounts, EffectRunners, EventMeta, Step } from '../stripe-objects/object-kind';
import { OBJECT_KINDS } from '../stripe-objects/registry';
import { applyObjects } from './apply-objects';
import { carriedChanges, withCarried } from './carried-objects';
import type { Outcome } from './types';
import type { EventIdentity } from '../stripe-objects/identify-event';

/** One snapshot to apply, with the event behind it when there is one. */
export interface BatchEntry {
  kind: AnyObjectKind;
  snapshot: EventMeta;
  /** The event as the log stores it; absent for a read of Stripe's API (import, reconcile), which is no event. */
  event?: { payload: string; force: boolean };
}

export interface ApplyOptions {
  now: number;
  effects: EffectRunners;
  /** How effects read a change: an event is news (the default); an API read that inserts a row is a baseline. */
  modeOf?: (change: Change<unknown, unknown>) => ChangeMode;
  /** The reducer of each kind: an event merges (the default); an import merges as listed; reconcile repairs. */
  stepOf?: (kind: AnyObjectKind) => Step<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Effects of the changes that wrote a row only (API reads), rather than of every change (events). */
  effectsOfWrittenOnly?: boolean;
}

export interface EntryResult {
  outcome: Outcome;
  /** The entry's change; absent for a duplicate. */
  change?: Change<unknown, unknown>;
  /** The changes of the objects the entry's snapshot carried (a charge's refunds), each with its kind's name. */
  carried?: Array<{ object: string; change: Change<unknown, unknown> }>;
  /** An event applied before and forced again (`replay events --force`). */
  reapplied?: true;
}

export interface BatchResult {
  results: EntryResult[];
  effects: EffectCounts;
}

const LIVE: ChangeMode = { mode: 'live' };

/** What the event log records of an entry's event. */
/** What the event log records of an event known only by its identity (one that cannot be applied, a health alert). */
export function identityRecord(who: EventIdentity & { id: string; type: string }, stripeInvoiceId: string | null): EventRecord {
  return { id: who.id, type: who.type, stripeInvoiceId, created: who.created ?? 0, livemode: who.livemode, apiVersion: who.apiVersion, stripeAccountId: who.account };
}

export function eventRecord(kind: AnyObjectKind, s: EventMeta): EventRecord {
  return {
    id: s.eventId,
    type: s.eventType,
    stripeInvoiceId: kind.invoiceOf(s),
    created: s.eventCreated,
    livemode: s.livemode,
    apiVersion: s.apiVersion,
    stripeAccountId: s.account,
  };
}

/**
 * The one way anything is applied: 1 to N snapshots in one transaction. Each event is claimed in
 * the log (a second copy in the batch, or an event already applied, is a duplicate unless forced);
 * every object the batch writes, every lock its kinds share, and the objects their effects read
 * (relatedLocks) are locked in one pass; each
 * kind's objects are then folded with all their snapshots and written once; each
 * kind's effects run on its changes; the events that were not new are marked processed. The rows
 * left are those that applying the entries one by one in order would leave.
 */
export async function applyBatch(ds: DataSource, entries: readonly BatchEntry[], o: ApplyOptions): Promise<BatchResult> {
  const unknown = entries.find((e) => !OBJECT_KINDS.includes(e.kind));
  if (unknown) throw new Error(`${unknown.kind.object} is not a registered kind; add it to OBJECT_KINDS`);
  return readCommitted(ds, async (db) => {
    const c = await sqlClientOf(db);
    // The first copy of an event counts; a second in the same batch is its duplicate, yet received too.
    // A forced replay is forced whichever of the copies in the batch carries the flag.
    const firstOf = new Map<string, number>();
    const receives = new Map<string, number>();
    const forced = new Set<string>();
    entries.forEach((e, i) => {
      if (!e.event) return;
      const id = e.snapshot.eventId;
      if (!firstOf.has(id)) firstOf.set(id, i);
      receives.set(id, (receives.get(id) ?? 0) + 1);
      if (e.event.force) forced.add(id);
    });
    const claims: Map<string, Claim> =
      firstOf.size === 0
        ? new Map()
        : await claimEventsProcessed(
            c,
            [...firstOf.entries()].map(([id, i]) => ({ record: eventRecord(entries[i]!.kind, entries[i]!.snapshot), payload: entries[i]!.event!.payload, receives: receives.get(id)! })),
          );
    const applies = (e: BatchEntry, index: number): boolean => {
      if (!e.event) return true;
      const claim = claims.get(e.snapshot.eventId);
      if (claim === undefined) throw new Error(`event ${e.snapshot.eventId} was neither inserted nor found`);
      return firstOf.get(e.snapshot.eventId) === index && (claim !== 'done' || forced.has(e.snapshot.eventId));
    };

    // Objects carried inside another (a charge's refunds) follow the entries.
    const applying = withCarried(
      entries.flatMap((e, index) => (applies(e, index) ? [{ index, kind: e.kind, snapshot: e.snapshot }] : [])),
      entries.length,
    );
    const related: string[] = [];
    for (const kind of OBJECT_KINDS) {
      const snapshots = applying.filter((a) => a.kind === kind).map((a) => a.snapshot);
      if (kind.relatedLocks && snapshots.length > 0) related.push(...(await kind.relatedLocks(db, snapshots)));
    }
    await lockObjectNames(c, [...applying.flatMap(({ kind, snapshot }) => [objectLockName(kind.object, kind.key(snapshot)), ...(kind.sharedLocks?.(snapshot) ?? [])]), ...related]);

    const changes = new Map<number, Change<unknown, unknown>>();
    const effects: EffectCounts = { queued: 0, skipped: 0 };
    for (const kind of OBJECT_KINDS) {
      const items = applying.filter((a) => a.kind === kind);
      if (items.length === 0) continue;
      const applied = await applyObjects(c, { kind, items, now: o.now, ...(o.stepOf ? { step: o.stepOf(kind) } : {}) });
      for (const ch of applied) changes.set(ch.index, ch);
      const effected = o.effectsOfWrittenOnly ? applied.filter((ch) => ch.written) : applied;
      const counts = await kind.effects(db, effected.map((ch) => ({ ...ch, ...(o.modeOf?.(ch) ?? LIVE) })), o.now, o.effects);
      effects.queued += counts.queued;
      effects.skipped += counts.skipped;
    }
    await markAllProcessed(
      c,
      [...firstOf.entries()].filter(([id, i]) => changes.has(i) && claims.get(id) !== 'new').map(([id]) => id),
    );
    const results = entries.map((_, i): EntryResult => {
      const change = changes.get(i);
      if (!change) return { outcome: 'duplicate' };
      const carried = carriedChanges(applying, changes, i);
      const reapplied = claims.get(entries[i]!.snapshot.eventId) === 'done';
      return { outcome: change.written ? 'merged' : 'unchanged', change, ...(carried.length > 0 ? { carried } : {}), ...(reapplied ? { reapplied } : {}) };
    });
    return { results, effects };
  });
}

export type EntryOutcome = { ok: true; result: EntryResult } | { ok: false; error: unknown };

/**
 * applyBatch, isolating what fails: when the batch's transaction fails for any reason but an
 * unreachable database (one bad entry, a lost race), each entry is applied again as a batch of its
 * own, so one entry that cannot be applied never holds back the others. Each entry gets its own
 * outcome; the effects counted are those of the transactions that committed.
 */
export async function applyIsolating(
  ds: DataSource,
  entries: readonly BatchEntry[],
  o: ApplyOptions & { onFallback?: (error: unknown, entries: number) => void },
): Promise<{ outcomes: EntryOutcome[]; effects: EffectCounts }> {
  try {
    const { results, effects } = await applyBatch(ds, entries, o);
    return { outcomes: results.map((result) => ({ ok: true, result })), effects };
  } catch (error) {
    if (entries.length <= 1 || isConnectionError(error)) return { outcomes: entries.map(() => ({ ok: false, error })), effects: { queued: 0, skipped: 0 } };
    o.onFallback?.(error, entries.length);
    const effects: EffectCounts = { queued: 0, skipped: 0 };
    const outcomes = await Promise.all(
      entries.map(async (entry): Promise<EntryOutcome> => {
        try {
          const alone = await applyBatch(ds, [entry], o);
          effects.queued += alone.effects.queued;
          effects.skipped += alone.effects.skipped;
          return { ok: true, result: alone.results[0]! };
        } catch (err) {
          return { ok: false, error: err };
        }
      }),
    );
    return { outcomes, effects };
  }
}
