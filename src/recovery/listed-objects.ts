import type { DataSource } from 'typeorm';
import { reconcileEventId, type ApiSource } from '../billing/repair';
import { isConnectionError } from '../db/connection-errors';
import { AccountMismatchError, MalformedEventError } from '../errors';
import { applyIsolating, type BatchEntry } from '../pipeline/apply-batch';
import { planObjects } from '../pipeline/apply-objects';
import { carriedChanges, withCarried } from '../pipeline/carried-objects';
import { fetchedObjectEvent } from '../billing/fetched-event';
import { errorText } from '../pipeline/types';
import type { AnyObjectKind, Change, EffectCounts, EffectRunners, EventMeta, Step } from '../stripe-objects/object-kind';
import { kindNamed, OBJECT_KINDS } from '../stripe-objects/registry';
import type { FetchedObject } from './invoice-money';

/** An object read from Stripe's API, ready for the batch. */
export interface ListedEntry {
  kind: AnyObjectKind;
  snapshot: EventMeta;
}

/** An object that cannot become a row, and why. */
export interface ObjectProblem {
  object: string;
  id: string;
  reason: string;
}

/**
 * Reads objects fetched from Stripe's API with their kinds' readers, each wrapped as the event an
 * API read stands for: Stripe's state as of the fetch, dated then, named for the run (`api_import_…`,
 * see reconcileEventId) and never a stored event, of the connected account the objects were read
 * as (null: the platform). An object no reader takes comes back with the reader's reason.
 */
export function readFetched(objects: readonly FetchedObject[], source: ApiSource, account: string | null = null): { entries: ListedEntry[]; invalid: ObjectProblem[] } {
  const entries: ListedEntry[] = [];
  const invalid: ObjectProblem[] = [];
  for (const o of objects) {
    const kind = kindNamed(o.object);
    const event = fetchedObjectEvent(o.body, { id: reconcileEventId(o.fetchedAt, source), type: source, fetchedAt: o.fetchedAt, livemode: o.body['livemode'] === true, account });
    try {
      entries.push({ kind, snapshot: kind.read(event) });
    } catch (err) {
      if (!(err instanceof MalformedEventError)) throw err;
      invalid.push({ object: o.object, id: typeof o.body['id'] === 'string' ? o.body['id'] : '(no id)', reason: err.message });
    }
  }
  return { entries, invalid };
}

/** What became of one listed entry: its change and those of the objects it carried, or why the database refused it. */
export type ListedOutcome =
  | { ok: true; change: Change<unknown, unknown>; carried: Array<{ object: string; change: Change<unknown, unknown> }> }
  | { ok: false; reason: string };

export interface ListedApply {
  now: number;
  /** The import's or reconcile's start: a row either inserts is a baseline as of then (see ChangeMode). */
  startedAt: number;
  effects: EffectRunners;
  /** Each kind's step: an import merges as listed; reconcile overwrites invoices. */
  stepOf: (kind: AnyObjectKind) => Step<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  dryRun: boolean;
}

/**
 * Applies what one page listed, any kinds together, through the pipeline's one path: one
 * transaction, each kind's rows locked and folded, effects run on the rows written (an inserted
 * row as a baseline, a change to a known row as news). An entry the database refuses is applied
 * alone and comes back with the reason, so it holds back none of the page; an unreachable
 * database throws (run the command again). A dry run folds the same snapshots against the rows
 * as they are, objects carried inside others too, and writes nothing.
 */
export async function applyListed(ds: DataSource, entries: readonly ListedEntry[], o: ListedApply): Promise<{ outcomes: ListedOutcome[]; effects: EffectCounts }> {
  if (o.dryRun) return { outcomes: await planListed(ds, entries, o), effects: { queued: 0, skipped: 0 } };
  const { outcomes, effects } = await applyIsolating(
    ds,
    entries.map((e): BatchEntry => ({ kind: e.kind, snapshot: e.snapshot })),
    {
      now: o.now,
      effects: o.effects,
      stepOf: o.stepOf,
      modeOf: (ch) => (ch.previous === null ? { mode: 'baseline', baselineAt: o.startedAt } : { mode: 'live' }),
      effectsOfWrittenOnly: true,
    },
  );
  return {
    outcomes: outcomes.map((r): ListedOutcome => {
      if (r.ok) return { ok: true, change: r.result.change!, carried: r.result.carried ?? [] };
      if (isConnectionError(r.error)) throw r.error;
      // Another owner's row is not the database's refusal: the message says whose it is.
      if (r.error instanceof AccountMismatchError) return { ok: false, reason: r.error.message };
      return { ok: false, reason: `the database refused it: ${errorText(r.error)}` };
    }),
    effects,
  };
}

/** The fold applyListed would do, kind by kind in the batch's order, against the rows as they are. */
async function planListed(ds: DataSource, entries: readonly ListedEntry[], o: ListedApply): Promise<ListedOutcome[]> {
  const items = withCarried(entries.map((e, index) => ({ index, kind: e.kind, snapshot: e.snapshot })), entries.length);
  const changes = new Map<number, Change<unknown, unknown>>();
  const refused = new Map<number, Error>();
  for (const kind of OBJECT_KINDS) {
    const mine = items.filter((i) => i.kind === kind);
    if (mine.length === 0) continue;
    const plan = await planObjects(ds.manager, { kind, items: mine, now: o.now, step: o.stepOf(kind) });
    for (const ch of plan.changes) changes.set(ch.index, ch);
    for (const r of plan.refused) refused.set(r.index, r.error);
  }
  return entries.map((_, i): ListedOutcome => {
    // An entry is applied with what it carries, so either one refused fails the entry, as in applyListed.
    const refusal = [i, ...items.filter((item) => item.carrier === i).map((item) => item.index)].map((n) => refused.get(n)).find((e) => e !== undefined);
    if (refusal) return { ok: false, reason: refusal.message };
    return { ok: true, change: changes.get(i)!, carried: carriedChanges(items, changes, i) };
  });
}
