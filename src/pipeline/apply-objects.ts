import type { EntityManager } from 'typeorm';
import type { SqlClient } from '../db/sql-client';
import type { Change, EventMeta, ObjectKind, Step } from '../stripe-objects/object-kind';

export interface SnapshotItem<S> {
  /** The caller's position of the snapshot; changes come back in this order. */
  index: number;
  snapshot: S;
}

/** One kind's snapshots to fold into their rows, by the kind's reducer unless another step is given. */
export interface Fold<S extends EventMeta, R> {
  kind: ObjectKind<S, R>;
  items: ReadonlyArray<SnapshotItem<S>>;
  now: number;
  step?: Step<S, R>;
}

/** One object's snapshots folded in order, starting from its row (or none). */
function foldGroup<S, R>(start: R | null, items: ReadonlyArray<SnapshotItem<S>>, step: Step<S, R>, now: number) {
  let row = start;
  const changes: Array<Change<S, R>> = [];
  for (const { index, snapshot } of items) {
    const next = step(row, snapshot, { now });
    changes.push({ index, snapshot, previous: row, next, written: next !== row });
    row = next;
  }
  return { start, final: row!, changes };
}

function byKey<S extends EventMeta, R>(kind: ObjectKind<S, R>, items: ReadonlyArray<SnapshotItem<S>>): Map<string, Array<SnapshotItem<S>>> {
  const groups = new Map<string, Array<SnapshotItem<S>>>();
  for (const item of items) {
    const key = kind.key(item.snapshot);
    const list = groups.get(key);
    if (list) list.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/**
 * Folds one kind's snapshots into their rows inside the caller's transaction, leaving the rows
 * that folding them one by one in order would leave: each object's row is locked once (the batch
 * holds its advisory lock already, see lockObjectNames), folded with all its snapshots, and
 * written once if it changed.
 */
export async function applyObjects<S extends EventMeta, R>(c: SqlClient, { kind, items, now, step = kind.reduce }: Fold<S, R>): Promise<Array<Change<S, R>>> {
  const grouped = byKey(kind, items);
  const keys = [...grouped.keys()];
  if (keys.length === 0) return [];
  const repo = kind.repository;
  const rows = await repo.lock(c, keys);
  const folds = new Map(keys.map((k) => [k, foldGroup(rows.get(k) ?? null, grouped.get(k)!, step, now)]));

  const lost = await repo.insert(c, [...folds.values()].filter((f) => f.start === null).map((f) => f.final));
  if (lost.length > 0) {
    // Another transaction inserted these between our lock and our insert: fold into their rows.
    const theirs = await repo.lock(c, lost);
    for (const key of lost) {
      const row = theirs.get(key);
      if (!row) throw new Error(`${kind.object} ${key} conflicted on insert but cannot be locked`);
      folds.set(key, foldGroup(row, grouped.get(key)!, step, now));
    }
  }
  await repo.update(c, [...folds.values()].filter((f) => f.start !== null && f.final !== f.start).map((f) => f.final));
  return [...folds.values()].flatMap((f) => f.changes).sort((a, b) => a.index - b.index);
}

/** What applyObjects would do, without writing or locking: the same fold against the rows as they are (a dry run). */
export async function planObjects<S extends EventMeta, R>(db: EntityManager, { kind, items, now, step = kind.reduce }: Fold<S, R>): Promise<Array<Change<S, R>>> {
  const grouped = byKey(kind, items);
  const rows = await kind.repository.find(db, [...grouped.keys()]);
  return [...grouped.entries()].flatMap(([key, group]) => foldGroup(rows.get(key) ?? null, group, step, now).changes).sort((a, b) => a.index - b.index);
}
