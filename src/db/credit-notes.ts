import type { EntityManager } from 'typeorm';
import type { CreditNoteState } from '../stripe-objects/credit-note-reducer';
import type { ObjectRepository } from './object-repository';
import { objectTable } from './object-table';

/** The row's fields and the columns that hold them; one list drives select, insert and update. */
const creditNoteTable = objectTable<CreditNoteState>({
  table: 'credit_notes',
  columns: [
    ['stripeCreditNoteId', 'stripe_credit_note_id', 'text'],
    ['stripeInvoiceId', 'stripe_invoice_id', 'text'],
    ['stripeCustomerId', 'stripe_customer_id', 'text'],
    ['number', 'number', 'text'],
    ['status', 'status', 'text'],
    ['type', 'type', 'text'],
    ['reason', 'reason', 'text'],
    ['totalCents', 'total_cents', 'cents'],
    ['prePaymentAmountCents', 'pre_payment_amount_cents', 'cents'],
    ['postPaymentAmountCents', 'post_payment_amount_cents', 'cents'],
    ['outOfBandAmountCents', 'out_of_band_amount_cents', 'cents'],
    ['currency', 'currency', 'text'],
    ['pdfUrl', 'pdf_url', 'text'],
    ['createdAt', 'created_at', 'seconds'],
    ['voidedAt', 'voided_at', 'seconds'],
    ['livemode', 'livemode', 'boolean'],
    ['lastEventId', 'last_event_id', 'text'],
    ['lastEventCreatedAt', 'last_event_created_at', 'seconds'],
    ['stripeAccountId', 'stripe_account_id', 'text'],
  ],
});

export const findCreditNote = (db: EntityManager, stripeCreditNoteId: string): Promise<CreditNoteState | null> => creditNoteTable.findOne(db, stripeCreditNoteId);

/** The credit note kind's write path (see ObjectRepository). */
export const creditNoteRepository: ObjectRepository<CreditNoteState> = creditNoteTable;
