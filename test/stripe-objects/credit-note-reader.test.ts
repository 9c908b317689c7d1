// Reading credit note events: Stripe's own fixture, older layouts, expanded references, and every
// bad input answered with MalformedEventError naming the field.
import { MalformedEventError } from '../../src/errors';
import { creditNoteKind } from '../../src/stripe-objects/credit-note';
import { readCreditNoteEvent } from '../../src/stripe-objects/credit-note-schema';
import { kindOfEvent, kindOfThinEvent } from '../../src/stripe-objects/registry';
import { creditNote, creditNoteEvent, creditNoteFixture, olderCreditNote } from '../support/credit-note-events';

const at = 1_700_000_100;

describe('the credit note kind', () => {
  it('carries every credit_note event, also ones Stripe adds later, and its thin twins', () => {
    for (const t of ['credit_note.created', 'credit_note.updated', 'credit_note.voided', 'credit_note.something_new']) expect(kindOfEvent(t)).toBe(creditNoteKind);
    for (const t of ['v1.credit_note.created', 'v1.credit_note.updated', 'v1.credit_note.voided']) expect(kindOfThinEvent(t)).toBe(creditNoteKind);
    expect(creditNoteKind.eventPattern).toBe('credit_note.*');
    expect(kindOfEvent('credit_notes.created')).toBeNull();
  });

  it('files the event under the invoice, and has no deletion stub', () => {
    const s = readCreditNoteEvent(creditNoteEvent('credit_note.created', creditNote({ invoice: 'in_Files' })));
    expect(creditNoteKind.invoiceOf(s)).toBe('in_Files');
    expect(creditNoteKind.invoiceOfObjectId('cn_1')).toBeNull();
    expect(creditNoteKind.goneObject('credit_note.voided', 'cn_1')).toBeNull();
  });
});

describe('reading a credit note', () => {
  it("reads Stripe's fixture as it is: amounts as sent, no voided_at on an issued note", () => {
    const s = readCreditNoteEvent(creditNoteEvent('credit_note.created', creditNoteFixture(), { id: 'evt_fx', created: at }));
    expect(s).toEqual({
      eventId: 'evt_fx',
      eventType: 'credit_note.created',
      eventCreated: at,
      livemode: false,
      apiVersion: '2026-10-28.endive',
      account: null,
      stripeCreditNoteId: 'cn_1Pgc75B7WZ01zgkWJMPt5riP',
      fields: {
        stripeInvoiceId: 'in_1Pgc75B7WZ01zgkWYv4iMwt7',
        stripeCustomerId: 'cus_QXg1o8vcGmoR32',
        number: 'ABCD-1234-CN-01',
        status: 'issued',
        type: 'pre_payment',
        reason: null,
        totalCents: 1690,
        prePaymentAmountCents: 251024947,
        postPaymentAmountCents: 1355257296,
        outOfBandAmountCents: null,
        currency: 'usd',
        pdfUrl: expect.stringMatching(/^https:\/\/.*\/pdf\?s=ap$/),
        createdAt: 1234567890,
        voidedAt: null,
        livemode: false,
      },
    });
  });

  it('reads a void credit note with its voided_at, and an older void one without it as void by its event', () => {
    const cn = creditNote({ status: 'void', voidedAt: at - 30 });
    expect(readCreditNoteEvent(creditNoteEvent('credit_note.voided', cn, { created: at })).fields).toMatchObject({ status: 'void', voidedAt: at - 30 });
    const older = { ...cn };
    delete older['voided_at'];
    expect(readCreditNoteEvent(creditNoteEvent('credit_note.voided', older, { created: at })).fields.voidedAt).toBe(at);
  });

  it('takes expanded invoice and customer objects by their ids, and upper-case currencies in lowercase', () => {
    const cn = creditNote({ invoice: { id: 'in_Exp', object: 'invoice', status: 'paid' }, customer: { id: 'cus_Exp', object: 'customer' }, currency: 'EUR' });
    expect(readCreditNoteEvent(creditNoteEvent('credit_note.created', cn)).fields).toMatchObject({ stripeInvoiceId: 'in_Exp', stripeCustomerId: 'cus_Exp', currency: 'eur' });
  });

  describe('an older layout without pre_payment_amount and post_payment_amount', () => {
    it.each([
      ['pre_payment', { pre: 1500, post: 0 }],
      ['post_payment', { pre: 0, post: 1500 }],
    ] as const)('splits a %s total by its type', (type, split) => {
      const s = readCreditNoteEvent(creditNoteEvent('credit_note.created', olderCreditNote(creditNote({ type, total: 1500 }))));
      expect(s.fields).toMatchObject({ totalCents: 1500, prePaymentAmountCents: split.pre, postPaymentAmountCents: split.post });
    });

    it('leaves the rest of the total to the amount not given', () => {
      const cn = { ...olderCreditNote(creditNote({ type: 'mixed', total: 1500 })), pre_payment_amount: 400 };
      expect(readCreditNoteEvent(creditNoteEvent('credit_note.created', cn)).fields).toMatchObject({ prePaymentAmountCents: 400, postPaymentAmountCents: 1100 });
      const post = { ...olderCreditNote(creditNote({ type: 'mixed', total: 1500 })), post_payment_amount: 1500 };
      expect(readCreditNoteEvent(creditNoteEvent('credit_note.created', post)).fields).toMatchObject({ prePaymentAmountCents: 0, postPaymentAmountCents: 1500 });
    });

    it('reads amount where total is absent', () => {
      const cn = olderCreditNote(creditNote({ type: 'pre_payment', total: 900 }));
      delete cn['total'];
      expect(readCreditNoteEvent(creditNoteEvent('credit_note.created', cn)).fields).toMatchObject({ totalCents: 900, prePaymentAmountCents: 900 });
    });
  });

  describe('bad input', () => {
    const read = (object: Record<string, unknown>, type = 'credit_note.created') => () => readCreditNoteEvent(creditNoteEvent(type, object));
    const without = (field: string, cn = creditNote()) => {
      const copy = { ...cn };
      delete copy[field];
      return copy;
    };

    it.each<[string, Record<string, unknown>, RegExp]>([
      ['no invoice', without('invoice'), /^invalid credit note in credit_note\.created: invoice: missing/],
      ['a null invoice', { ...creditNote(), invoice: null }, /invoice: /],
      ['no id', without('id'), /id: missing/],
      ['another object', { ...creditNote(), object: 'invoice' }, /object: /],
      ['no status', without('status'), /status: missing/],
      ['a status in capitals', { ...creditNote(), status: 'VOID' }, /status: must be a lowercase Stripe enum value/],
      ['no type', without('type'), /type: missing/],
      ['no currency', without('currency'), /currency: missing/],
      ['a currency of four letters', { ...creditNote(), currency: 'usdd' }, /currency: must be a three-letter ISO currency code/],
      ['a fractional total', { ...creditNote(), total: 10.5 }, /total: /],
      ['a negative total', { ...creditNote(), total: -1 }, /total: /],
      ['no total nor amount', without('amount', without('total')), /total: missing/],
      ['no created', without('created'), /created: missing/],
      ['a created past the year 9999', { ...creditNote(), created: 1e13 }, /created: is not a time before the year 10000/],
      ['a mixed note of the older layout', olderCreditNote(creditNote({ type: 'mixed' })), /pre_payment_amount: missing \(a mixed credit note must say how its total splits\)/],
      ['an unknown type of the older layout', olderCreditNote(creditNote({ type: 'partial' as 'mixed' })), /pre_payment_amount: missing \(a partial credit note/],
    ])('refuses %s with MalformedEventError', (_name, object, message) => {
      expect(read(object)).toThrow(MalformedEventError);
      expect(read(object)).toThrow(message);
    });

    it('refuses what is no event', () => {
      expect(() => readCreditNoteEvent({ type: 'credit_note.created' })).toThrow(/not a Stripe event: id: missing/);
      expect(() => readCreditNoteEvent(null)).toThrow(MalformedEventError);
    });

    it('keeps a status Stripe adds later, as sent', () => {
      expect(readCreditNoteEvent(creditNoteEvent('credit_note.updated', creditNote({ status: 'pending_review' }))).fields).toMatchObject({ status: 'pending_review', voidedAt: null });
    });
  });
});
