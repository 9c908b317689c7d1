import type { AnyObjectKind, Change, EventMeta } from '../stripe-objects/object-kind';
import { kindNamed } from '../stripe-objects/registry';

/** One snapshot to fold, at its position; `carrier` is the entry whose snapshot carried it. */
export interface FoldItem {
  index: number;
  kind: AnyObjectKind;
  snapshot: EventMeta;
  carrier?: number;
}

/**
 * The items, followed by the objects their snapshots carry (a charge's refunds, see
 * ObjectKind.nested), each numbered after the `entries` positions so no index is taken twice.
 */
export function withCarried(items: readonly FoldItem[], entries: number): FoldItem[] {
  const all = [...items];
  for (const { index: carrier, kind, snapshot } of items) {
    for (const carried of kind.nested?.(snapshot) ?? []) {
      all.push({ index: entries + all.length, kind: kindNamed(carried.object), snapshot: carried.snapshot, carrier });
    }
  }
  return all;
}

/** The changes of the objects entry `i` carried, each with its kind's name. */
export function carriedChanges(items: readonly FoldItem[], changes: ReadonlyMap<number, Change<unknown, unknown>>, i: number): Array<{ object: string; change: Change<unknown, unknown> }> {
  return items.filter((a) => a.carrier === i).map((a) => ({ object: a.kind.object, change: changes.get(a.index)! }));
}
