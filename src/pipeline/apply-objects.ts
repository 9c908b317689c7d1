import type { EntityManager } from 'typeorm';
import type { SqlClient } from '../db/sql-client';
import { AccountMismatchError, ownerName } from '../errors';
import type { Change, EventMeta, ObjectKind, Owned, Step } from '../stripe-objects/object-kind';

export interface SnapshotItem<S> {
  /** The caller's position of the snapshot; changes come back in this order. */
  index: number;
  snapshot: S;
}

/** One kind's snapshots to fold into their rows, by the kind's reducer unless another step is given. */
export interface Fold<S extends EventMeta, R extends Owned> {
  kind: ObjectKind<S, R>;
  items: ReadonlyArray<SnapshotItem<S>>;
  now: number;
  step?: Step<S, R>;
}

/**
 * A snapshot may only change a row of its own account: a row belongs to the account of the
 * snapshot that made it (null: the platform). Stripe ids are unique across Stripe, so a snapshot
 * of another owner is a wrong payload, or someone else's object under a copied id; either way one
 * owner's data must never change another's, so it is refused, whatever the kind and whoever
 * applies it (an event, import, reconcile).
 */
function checkOwner<S extends EventMeta, R extends Owned>(kind: ObjectKind<S, R>, row: R | null, snapshot: S): void {
  if (row === null || row.stripeAccountId === snapshot.account || kind.unclaimed?.(row)) return;
  // API reads (import, reconcile) are named for the run, never `evt_…` (see reconcileEventId).
  const what = snapshot.eventId.startsWith('api_') ? `a read of Stripe's API (${snapshot.eventType})` : `event ${snapshot.eventId} (${snapshot.eventType})`;
  throw new AccountMismatchError(
    `${kind.object} ${kind.key(snapshot)} belongs to ${ownerName(row.stripeAccountId)}; ${what} is of ${ownerName(snapshot.account)} and cannot change it`,
  );
}

/** One object's snapshots folded in order, starting from its row (or none). */
function foldGroup<S extends EventMeta, R extends Owned>(kind: ObjectKind<S, R>, start: R | null, items: ReadonlyArray<SnapshotItem<S>>, step: Step<S, R>, now: number) {
  let row = start;
  const changes: Array<Change<S, R>> = [];
  for (const { index, snapshot } of items) {
    checkOwner(kind, row, snapshot);
    const next = step(row, snapshot, { now });
    changes.push({ index, snapshot, previous: row, next, written: next !== row });
    row = next;
  }
  return { start, final: row!, changes };
}

function byKey<S extends EventMeta, R extends Owned>(kind: ObjectKind<S, R>, items: ReadonlyArray<SnapshotItem<S>>): Map<string, Array<SnapshotItem<S>>> {
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
export async function applyObjects<S extends EventMeta, R extends Owned>(c: SqlClient, { kind, items, now, step = kind.reduce }: Fold<S, R>): Promise<Array<Change<S, R>>> {
  const grouped = byKey(kind, items);
  const keys = [...grouped.keys()];
  if (keys.length === 0) return [];
  const repo = kind.repository;
  const rows = await repo.lock(c, keys);
  const folds = new Map(keys.map((k) => [k, foldGroup(kind, rows.get(k) ?? null, grouped.get(k)!, step, now)]));

  const lost = await repo.insert(c, [...folds.values()].filter((f) => f.start === null).map((f) => f.final));
  if (lost.length > 0) {
    // Another transaction inserted these between our lock and our insert: fold into their rows.
    const theirs = await repo.lock(c, lost);
    for (const key of lost) {
      const row = theirs.get(key);
      if (!row) throw new Error(`${kind.object} ${key} conflicted on insert but cannot be locked`);
      folds.set(key, foldGroup(kind, row, grouped.get(key)!, step, now));
    }
  }
  await repo.update(c, [...folds.values()].filter((f) => f.start !== null && f.final !== f.start).map((f) => f.final));
  return [...folds.values()].flatMap((f) => f.changes).sort((a, b) => a.index - b.index);
}

/**
 * What applyObjects would do, without writing or locking: the same fold against the rows as they
 * are (a dry run). The snapshots of an object that applyObjects would refuse (another owner's; see
 * checkOwner) come back as refused, with the error, instead of failing the whole plan.
 */
export async function planObjects<S extends EventMeta, R extends Owned>(
  db: EntityManager,
  { kind, items, now, step = kind.reduce }: Fold<S, R>,
): Promise<{ changes: Array<Change<S, R>>; refused: Array<{ index: number; error: AccountMismatchError }> }> {
  const grouped = byKey(kind, items);
  const rows = await kind.repository.find(db, [...grouped.keys()]);
  const changes: Array<Change<S, R>> = [];
  const refused: Array<{ index: number; error: AccountMismatchError }> = [];
  for (const [key, group] of grouped) {
    try {
      changes.push(...foldGroup(kind, rows.get(key) ?? null, group, step, now).changes);
    } catch (error) {
      if (!(error instanceof AccountMismatchError)) throw error;
      refused.push(...group.map(({ index }) => ({ index, error })));
    }
  }
  return { changes: changes.sort((a, b) => a.index - b.index), refused };
}
