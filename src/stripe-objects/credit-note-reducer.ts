import type { Owned, Step } from './object-kind';
import type { CreditNoteFields, CreditNoteSnapshot } from './credit-note-schema';
import { fieldsBut, joinListedStep, joinSnapshot, joinStep, known, type LastEvent, type RowJoin, sameRow } from './row-join';

/** The credit_notes row as the pure core sees it (times in unix seconds). */
export interface CreditNoteState extends CreditNoteFields, LastEvent, Owned {
  stripeCreditNoteId: string;
}

/**
 * Status only moves up: issued, then void, which is final. A status Stripe adds later sits
 * between them: nothing is known to follow void, and a new status is news about an issued note.
 */
const rankOf = (status: string): number => (status === 'issued' ? 0 : status === 'void' ? 2 : 1);

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

/**
 * The changing fields (status, number, pdf, reason, customer) come from the later snapshot by
 * status rank, event time and event id (see row-join), so a voided credit note stays void; the
 * fixed ones are the least seen (see Fixed), and voided_at is the earliest any void snapshot gave.
 */
const creditNoteJoin: RowJoin<CreditNoteSnapshot, CreditNoteState> = {
  rowOf: (s) => ({ stripeCreditNoteId: s.stripeCreditNoteId, ...s.fields, lastEventId: s.eventId, lastEventCreatedAt: s.eventCreated, stripeAccountId: s.account }),
  rank: (row) => rankOf(row.status),
  merge: (winner, other) => ({
    ...winner,
    ...fixedOf(compareFixed(winner, other) <= 0 ? winner : other),
    voidedAt: known(winner.voidedAt, other.voidedAt),
  }),
  ownFields: fieldsBut<CreditNoteState>(...FIXED_ORDER, 'voidedAt'),
};

/** Whether two rows hold the same values in every column. */
export const sameCreditNote = (a: CreditNoteState, b: CreditNoteState): boolean => sameRow(a, b);

/** Folds one snapshot into the row; hands back `current` itself when nothing changes. */
export const mergeCreditNote = (current: CreditNoteState | null, s: CreditNoteSnapshot): CreditNoteState => joinSnapshot(creditNoteJoin, current, s);

export const reduceCreditNote: Step<CreditNoteSnapshot, CreditNoteState> = joinStep(creditNoteJoin);

/**
 * The reducer for snapshots read again from the API (import): one that would change only which
 * event the row last took its fields from says nothing new, and changes nothing.
 */
export const reduceListedCreditNote: Step<CreditNoteSnapshot, CreditNoteState> = joinListedStep(creditNoteJoin);
