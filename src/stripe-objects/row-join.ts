import type { Step } from './object-kind';

/**
 * What makes the money kinds' reducers joins. A row is built from each snapshot alone (`rowOf`);
 * two rows of one object are joined by taking the fields that move with the status from the one
 * that ranks higher (status rank, then event time, then event id, then content, so the order is
 * total even for same-second ties and for two snapshots read under one event id) and merging the
 * rest with operations that are themselves order-free: a maximum, a sticky flag, or `known` for
 * what Stripe sets once. A join of a total order's maximum and such merges is commutative,
 * associative and idempotent, so any order and any repetition of an object's snapshots give the
 * same row.
 */

export interface LastEvent {
  lastEventId: string;
  lastEventCreatedAt: number;
}

export interface RowJoin<S, R extends LastEvent> {
  /** The row the snapshot alone would make. */
  rowOf(snapshot: S): R;
  /** Rank of the row's status: a row never moves to a lower rank. */
  rank(row: R): number;
  /** The winner's fields, with those that do not follow the status merged from the other row. */
  merge(winner: R, other: R): R;
  /**
   * The fields the winner alone gives: all but those `merge` combines. The content tie-break
   * compares only these, so a merged row orders as its winner did and joining it again changes
   * nothing. Without it the whole row is compared, which is a join only while no merged field can
   * differ between two snapshots of one event id.
   */
  ownFields?(row: R): object;
}

/** `ownFields` for a join whose `merge` combines these fields: the row without them. */
export function fieldsBut<R extends object>(...merged: ReadonlyArray<keyof R>): (row: R) => object {
  const leave = new Set<PropertyKey>(merged);
  return (row) => Object.fromEntries(Object.entries(row).filter(([key]) => !leave.has(key)));
}

/** The value Stripe sets once, kept once known; should two rows disagree, the smaller wins, whatever the order. */
export function known<T extends string | number>(a: T | null, b: T | null): T | null {
  if (a === null) return b;
  if (b === null) return a;
  return a <= b ? a : b;
}

const canonical = (row: object): string => JSON.stringify(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Positive when `a` is the later state of the object than `b`, zero only for rows whose `content` is equal. */
function compareRows<R extends LastEvent>(a: R, b: R, rank: (row: R) => number, content: (row: R) => object = (row) => row): number {
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  const byTime = a.lastEventCreatedAt - b.lastEventCreatedAt;
  if (byTime !== 0) return byTime;
  if (a.lastEventId !== b.lastEventId) return a.lastEventId < b.lastEventId ? -1 : 1;
  // One event read twice (a forced replay of a fetched object) may still differ in content.
  const ca = canonical(content(a));
  const cb = canonical(content(b));
  return ca === cb ? 0 : ca < cb ? -1 : 1;
}

export function sameRow<R extends object>(a: R, b: R): boolean {
  for (const key of Object.keys(a) as (keyof R)[]) if (a[key] !== b[key]) return false;
  return Object.keys(a).length === Object.keys(b).length;
}

/** The join of two rows of one object. */
export function joinRows<S, R extends LastEvent>(j: RowJoin<S, R>, a: R, b: R): R {
  return compareRows(a, b, j.rank, j.ownFields) >= 0 ? j.merge(a, b) : j.merge(b, a);
}

/** The row joined with the snapshot's, or the row itself when that changes nothing. */
export function joinSnapshot<S, R extends LastEvent>(j: RowJoin<S, R>, current: R | null, snapshot: S): R {
  const incoming = j.rowOf(snapshot);
  if (current === null) return incoming;
  const next = joinRows(j, current, incoming);
  return sameRow(current, next) ? current : next;
}

/** The kind's reducer (see joinSnapshot). */
export function joinStep<S, R extends LastEvent>(j: RowJoin<S, R>): Step<S, R> {
  return (current, snapshot) => joinSnapshot(j, current, snapshot);
}

/** The reducer for snapshots read again from the API: a re-read that says nothing new keeps the row, and the event it came from. */
export function joinListedStep<S, R extends LastEvent>(j: RowJoin<S, R>): Step<S, R> {
  const step = joinStep(j);
  return (current, snapshot, meta) => {
    const next = step(current, snapshot, meta);
    if (current === null || next === current) return next;
    return sameRow({ ...next, lastEventId: current.lastEventId, lastEventCreatedAt: current.lastEventCreatedAt }, current) ? current : next;
  };
}
