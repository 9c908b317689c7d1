import type { InvoiceState } from '../billing/invoice-state';
import { mergeInvoice, sameState } from '../billing/merge';
import type { InvoiceSnapshot } from '../billing/snapshot';
import { insertInvoices, lockInvoiceKeys, lockInvoices, updateInvoices } from '../db/invoice-rows-batch';
import type { SqlClient } from '../db/sql-client';

export interface MergeItem {
  /** The caller's position of the snapshot; changes come back in this order. */
  index: number;
  snapshot: InvoiceSnapshot;
}

export interface MergedChange {
  index: number;
  snapshot: InvoiceSnapshot;
  previous: InvoiceState | null;
  next: InvoiceState;
  /** False when the row was left as it was. */
  written: boolean;
}

/** Whether a merged row is the row it came from; the rows are then left alone. */
export type SameRow = (current: InvoiceState, merged: InvoiceState) => boolean;

/** One snapshot merged into a row (or none): the row itself when the merge leaves it the same. */
export function mergeStep(row: InvoiceState | null, snapshot: InvoiceSnapshot, now: number, same: SameRow = sameState): InvoiceState {
  const merged = mergeInvoice(row, snapshot, now);
  return row !== null && same(row, merged) ? row : merged;
}

/** One invoice's snapshots merged in order, starting from its row (or none). */
function mergeGroup(start: InvoiceState | null, items: readonly MergeItem[], now: number, same: SameRow) {
  let row = start;
  const changes: MergedChange[] = [];
  for (const { index, snapshot } of items) {
    const next = mergeStep(row, snapshot, now, same);
    changes.push({ index, snapshot, previous: row, next, written: next !== row });
    row = next;
  }
  return { start, final: row!, changes };
}

/**
 * Merges snapshots into their invoices' rows inside the caller's transaction, leaving the rows
 * that merging them one by one in order would leave: each invoice is locked once (its key first,
 * see lockInvoiceKeys), merged with all its snapshots, and written once if it changed.
 */
export async function mergeSnapshots(c: SqlClient, items: readonly MergeItem[], now: number, same: SameRow = sameState): Promise<MergedChange[]> {
  const byInvoice = new Map<string, MergeItem[]>();
  for (const m of items) {
    const list = byInvoice.get(m.snapshot.stripeInvoiceId);
    if (list) list.push(m);
    else byInvoice.set(m.snapshot.stripeInvoiceId, [m]);
  }
  const ids = [...byInvoice.keys()];
  if (ids.length === 0) return [];
  await lockInvoiceKeys(c, ids);
  const rows = await lockInvoices(c, ids);
  const groups = new Map(ids.map((id) => [id, mergeGroup(rows.get(id) ?? null, byInvoice.get(id)!, now, same)]));

  const lost = await insertInvoices(c, [...groups.values()].filter((g) => g.start === null).map((g) => g.final));
  if (lost.length > 0) {
    // Another transaction inserted these between our lock and our insert: merge into their rows.
    const theirs = await lockInvoices(c, lost);
    for (const id of lost) {
      const row = theirs.get(id);
      if (!row) throw new Error(`invoice ${id} conflicted on insert but cannot be locked`);
      groups.set(id, mergeGroup(row, byInvoice.get(id)!, now, same));
    }
  }
  await updateInvoices(
    c,
    [...groups.values()].filter((g) => g.start !== null && g.final !== g.start).map((g) => g.final),
  );
  return [...groups.values()].flatMap((g) => g.changes).sort((a, b) => a.index - b.index);
}
