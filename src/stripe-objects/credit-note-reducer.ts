import type { Step } from './object-kind';
import type { CreditNoteFields, CreditNoteSnapshot } from './credit-note-schema';

/** The credit_notes row as the pure core sees it (times in unix seconds). */
export interface CreditNoteState extends CreditNoteFields {
  stripeCreditNoteId: string;
  /** The event the row takes its status and the other current fields from. */
  lastEventId: string;
  lastEventCreatedAt: number;
}

/**
 * Status only moves up: issued, then void, which is final. A status Stripe adds later sits
 * between them: nothing is known to follow void, and a new status is news about an issued note.
 */
const rankOf = (status: string): number => (status === 'issued' ? 0 : status === 'void' ? 2 : 1);

/**
 * Orders snapshots of one credit note for the fields that can change (status, number, pdf,
 * reason, customer): status rank, then the event's `created`, then the event id, so that
 * same-second snapshots (Stripe often sends created and updated in one second) still have one
 * winner on every replica.
 */
type VersionKey = readonly [rank: number, created: number, eventId: string];

function compareKeys(a: VersionKey, b: VersionKey): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] - b[1];
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}

const snapshotKey = (s: CreditNoteSnapshot): VersionKey => [rankOf(s.fields.status), s.eventCreated, s.eventId];
const stateKey = (r: CreditNoteState): VersionKey => [rankOf(r.status), r.lastEventCreatedAt, r.lastEventId];

/**
 * What Stripe fixes when it issues a credit note: its amounts, currency, type and creation time.
 * Snapshots never disagree on them unless something upstream is wrong; if they do, the row keeps
 * the least of them compared in this order (nulls first), which no order of arrival can change.
 */
type Fixed = Pick<CreditNoteFields, 'totalCents' | 'prePaymentAmountCents' | 'postPaymentAmountCents' | 'outOfBandAmountCents' | 'currency' | 'type' | 'createdAt'>;
const FIXED_ORDER = ['totalCents', 'prePaymentAmountCents', 'postPaymentAmountCents', 'outOfBandAmountCents', 'currency', 'type', 'createdAt'] as const;

function compareFixed(a: Fixed, b: Fixed): number {
  for (const k of FIXED_ORDER) {
    const x = a[k];
    const y = b[k];
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

const fixedOf = (f: Fixed): Fixed => Object.fromEntries(FIXED_ORDER.map((k) => [k, f[k]])) as Fixed;

const earliest = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

/** Whether two rows hold the same values in every column. */
export function sameCreditNote(a: CreditNoteState, b: CreditNoteState): boolean {
  return (Object.keys(a) as (keyof CreditNoteState)[]).every((k) => a[k] === b[k]);
}

/**
 * Folds one snapshot into the row. A join: the result depends only on the set of snapshots seen.
 * The changing fields come from the greatest snapshot by VersionKey (so a voided credit note
 * stays void), the fixed ones are the least seen (see Fixed), and voided_at is the earliest any
 * void snapshot gave (kept once known). Hands back `current` itself when nothing changes.
 */
export function mergeCreditNote(current: CreditNoteState | null, s: CreditNoteSnapshot): CreditNoteState {
  const incoming: CreditNoteState = { stripeCreditNoteId: s.stripeCreditNoteId, ...s.fields, lastEventId: s.eventId, lastEventCreatedAt: s.eventCreated };
  if (current === null) return incoming;
  const base = compareKeys(snapshotKey(s), stateKey(current)) > 0 ? incoming : current;
  const fixed = compareFixed(incoming, current) < 0 ? incoming : current;
  const next: CreditNoteState = { ...base, ...fixedOf(fixed), voidedAt: earliest(current.voidedAt, incoming.voidedAt) };
  return sameCreditNote(next, current) ? current : next;
}

export const reduceCreditNote: Step<CreditNoteSnapshot, CreditNoteState> = (current, s) => mergeCreditNote(current, s);

/**
 * The reducer for snapshots read again from the API (import): one that would change only which
 * event the row last took its fields from says nothing new, and changes nothing.
 */
export const reduceListedCreditNote: Step<CreditNoteSnapshot, CreditNoteState> = (current, s) => {
  const next = mergeCreditNote(current, s);
  if (current === null || next === current) return next;
  return sameCreditNote({ ...next, lastEventId: current.lastEventId, lastEventCreatedAt: current.lastEventCreatedAt }, current) ? current : next;
};
