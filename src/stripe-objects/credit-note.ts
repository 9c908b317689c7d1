import { creditNoteRepository } from '../db/credit-notes';
import { reduceCreditNote, reduceListedCreditNote, type CreditNoteState } from './credit-note-reducer';
import { readCreditNoteEvent, type CreditNoteSnapshot } from './credit-note-schema';
import { retrieveOrNull } from './retrieve';
import type { ObjectKind } from './object-kind';

/** Every credit note event Stripe sends. */
const EVENT_TYPES = ['credit_note.created', 'credit_note.updated', 'credit_note.voided'] as const;

/**
 * Credit notes: a credit note reduces what an invoice asks (pre-payment) or credits what was paid
 * (post-payment). Kept for finance; it sends no email and writes no ledger entry.
 */
export const creditNoteKind: ObjectKind<CreditNoteSnapshot, CreditNoteState> = {
  object: 'credit_note',
  eventTypes: EVENT_TYPES,
  thinEventTypes: EVENT_TYPES.map((t) => `v1.${t}`),
  eventPattern: 'credit_note.*',
  carries: (type) => type.startsWith('credit_note.'),
  carriesThin: (type) => type.startsWith('v1.credit_note.'),
  read: (event) => readCreditNoteEvent(event),
  key: (s) => s.stripeCreditNoteId,
  // The event log files a credit note's events with its invoice's, so they read as one history.
  invoiceOf: (s) => s.fields.stripeInvoiceId,
  // A credit note's id does not name its invoice.
  invoiceOfObjectId: () => null,
  reduce: reduceCreditNote,
  reduceListed: reduceListedCreditNote,
  repository: creditNoteRepository,
  effects: async () => ({ queued: 0, skipped: 0 }),
  // Stripe never deletes a credit note (it voids it), so a missing one is no event's object.
  goneObject: () => null,
  retrieve: (stripe, id, account) => retrieveOrNull((options) => stripe.creditNotes.retrieve(id, {}, options), account),
};
