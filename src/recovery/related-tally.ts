import type { Change } from '../stripe-objects/object-kind';
import { kindNamed } from '../stripe-objects/registry';
import type { ListedEntry, ListedOutcome, ObjectProblem } from './listed-objects';

/**
 * The objects import and reconcile bring in with each invoice, besides the invoice: its payments,
 * the charges they point to (with the refunds a charge carries) and its credit notes. Their
 * counts are reported for each of these kinds, also when there are none.
 */
const RELATED_KINDS = ['invoice_payment', 'charge', 'refund', 'credit_note'] as const;

export interface RelatedCounts {
  listed: number;
  /** New rows (in a dry run: would be). */
  inserted: number;
  /** Known rows that took something from Stripe's state (import: updated; reconcile: repaired). */
  changed: number;
  unchanged: number;
  /** Objects that cannot become a row, Stripe could not find, or the database refused. */
  invalid: number;
}

/** One related object that is not unchanged. */
export type RelatedChange =
  | { object: string; id: string; action: 'inserted' | 'changed'; previous: unknown; next: unknown }
  | { object: string; id: string; action: 'invalid'; reason: string };

export interface RelatedTally {
  counts: Record<string, RelatedCounts>;
  changes: RelatedChange[];
}

export function emptyTally(): RelatedTally {
  return { counts: Object.fromEntries(RELATED_KINDS.map((k) => [k, { listed: 0, inserted: 0, changed: 0, unchanged: 0, invalid: 0 }])), changes: [] };
}

function countsOf(t: RelatedTally, object: string): RelatedCounts {
  return (t.counts[object] ??= { listed: 0, inserted: 0, changed: 0, unchanged: 0, invalid: 0 });
}

function addChange(t: RelatedTally, object: string, change: Change<unknown, unknown>): void {
  const counts = countsOf(t, object);
  counts.listed++;
  const id = kindNamed(object).key(change.snapshot as never);
  if (!change.written) counts.unchanged++;
  else if (change.previous === null) {
    counts.inserted++;
    t.changes.push({ object, id, action: 'inserted', previous: null, next: change.next });
  } else {
    counts.changed++;
    t.changes.push({ object, id, action: 'changed', previous: change.previous, next: change.next });
  }
}

/** Adds what one page's related objects came to: each entry's outcome, the objects it carried, and those that could not be read. */
export function tallyRelated(t: RelatedTally, entries: readonly ListedEntry[], outcomes: readonly ListedOutcome[], invalid: readonly ObjectProblem[]): void {
  entries.forEach((e, i) => {
    const o = outcomes[i]!;
    if (o.ok) {
      addChange(t, e.kind.object, o.change);
      for (const c of o.carried) addChange(t, c.object, c.change);
    } else {
      const counts = countsOf(t, e.kind.object);
      counts.listed++;
      counts.invalid++;
      t.changes.push({ object: e.kind.object, id: e.kind.key(e.snapshot), action: 'invalid', reason: o.reason });
    }
  });
  for (const p of invalid) {
    const counts = countsOf(t, p.object);
    counts.listed++;
    counts.invalid++;
    t.changes.push({ ...p, action: 'invalid' });
  }
}

/** Bookkeeping of where a row's state came from, not Stripe's state: never a difference. */
const BOOKKEEPING = new Set(['lastEventId', 'lastEventCreatedAt']);

/** The fields of a related object's row that differ, ours and Stripe's (as merged), in the row's order. */
export function rowDifferences(previous: unknown, next: unknown): Array<{ field: string; ours: unknown; stripe: unknown }> {
  const before = (previous ?? {}) as Record<string, unknown>;
  const after = (next ?? {}) as Record<string, unknown>;
  return Object.keys(after)
    .filter((field) => !BOOKKEEPING.has(field) && JSON.stringify(before[field]) !== JSON.stringify(after[field]))
    .map((field) => ({ field, ours: before[field] ?? null, stripe: after[field] ?? null }));
}
