/**
 * The pure pieces import and reconcile use for the money behind invoices: what paid an invoice
 * payment, which invoices can have money, what a related row's repair changed, how outcomes are
 * counted, and which event patterns backfill lists.
 */
import fc from 'fast-check';
import { snapshotFromListedInvoice } from '../../src/billing/repair';
import { eventPatterns } from '../../src/recovery/backfill';
import { finalizedInvoiceIds, paymentSource } from '../../src/recovery/invoice-money';
import { readFetched } from '../../src/recovery/listed-objects';
import { emptyTally, rowDifferences, tallyRelated } from '../../src/recovery/related-tally';
import { kindOfEvent, OBJECT_KINDS } from '../../src/stripe-objects/registry';
import { chargeObject, creditNoteObject, invoicePaymentObject } from '../support/stripe-api/objects';
import { invoice } from '../support/stripe-events';

describe('paymentSource', () => {
  it('follows a PaymentIntent, else a charge, by id or expanded; a payment record or nothing names neither', () => {
    expect(paymentSource({ payment: { type: 'payment_intent', payment_intent: 'pi_1' } })).toEqual({ paymentIntent: 'pi_1' });
    expect(paymentSource({ payment: { type: 'payment_intent', payment_intent: { id: 'pi_2', object: 'payment_intent' } } })).toEqual({ paymentIntent: 'pi_2' });
    expect(paymentSource({ payment: { type: 'charge', charge: 'ch_1' } })).toEqual({ charge: 'ch_1' });
    expect(paymentSource({ payment: { type: 'charge', charge: { id: 'ch_2' } } })).toEqual({ charge: 'ch_2' });
    expect(paymentSource({ payment: { type: 'payment_record', payment_record: 'pr_1' } })).toBeNull();
    for (const bad of [{}, { payment: null }, { payment: 'pi_1' }, { payment: [] }, { payment: { payment_intent: '' } }, { payment: { charge: 5 } }]) expect(paymentSource(bad)).toBeNull();
  });

  it('never throws, whatever the API returns', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (body) => void paymentSource(body)));
  });
});

describe('finalizedInvoiceIds', () => {
  it('asks about finalized invoices only: a draft has no payments or credit notes', () => {
    const read = (status: string, id: string) => snapshotFromListedInvoice(invoice({ id, status }), 1_800_000_000);
    expect(finalizedInvoiceIds(['draft', 'open', 'paid', 'void', 'uncollectible'].map((s, i) => read(s, `in_${i}`)))).toEqual(['in_1', 'in_2', 'in_3', 'in_4']);
  });
});

describe('rowDifferences', () => {
  it('names each field that differs, in the row’s order, leaving out where the state came from', () => {
    const ours = { stripeChargeId: 'ch_1', amountRefundedCents: 0, refunded: false, metadata: { a: '1' }, lastEventId: 'evt_1', lastEventCreatedAt: 1 };
    const stripe = { ...ours, amountRefundedCents: 500, refunded: true, lastEventId: 'api_reconcile_2', lastEventCreatedAt: 2 };
    expect(rowDifferences(ours, stripe)).toEqual([
      { field: 'amountRefundedCents', ours: 0, stripe: 500 },
      { field: 'refunded', ours: false, stripe: true },
    ]);
    expect(rowDifferences(ours, { ...ours, metadata: { a: '2' } })).toEqual([{ field: 'metadata', ours: { a: '1' }, stripe: { a: '2' } }]);
    expect(rowDifferences(ours, { ...ours })).toEqual([]);
  });
});

describe('readFetched and tallyRelated', () => {
  const fetchedAt = 1_800_000_000;
  it('reads each object with its kind as an API read dated at the fetch, and counts every outcome by kind', () => {
    const payment = invoicePaymentObject('in_1');
    const charge = chargeObject();
    const broken = creditNoteObject('in_1', { currency: 7 });
    const { entries, invalid } = readFetched(
      [
        { object: 'invoice_payment', body: payment, fetchedAt },
        { object: 'charge', body: charge, fetchedAt },
        { object: 'credit_note', body: broken, fetchedAt },
      ],
      'import',
    );
    expect(entries.map((e) => [e.kind.object, e.snapshot.eventId, e.snapshot.eventType, e.snapshot.eventCreated])).toEqual([
      ['invoice_payment', `api_import_${fetchedAt}`, 'import', fetchedAt],
      ['charge', `api_import_${fetchedAt}`, 'import', fetchedAt],
    ]);
    expect(invalid).toEqual([{ object: 'credit_note', id: broken['id'], reason: expect.stringMatching(/^invalid credit note in import: currency/) }]);

    const tally = emptyTally();
    const change = (e: (typeof entries)[number], previous: unknown, written: boolean) => ({ index: 0, snapshot: e.snapshot, previous, next: { x: 1 }, written });
    tallyRelated(
      tally,
      entries,
      [
        { ok: true, change: change(entries[0]!, null, true), carried: [] },
        { ok: false, reason: 'the database refused it: boom' },
      ],
      [...invalid, { object: 'charge', id: 'ch_gone', reason: 'gone' }],
    );
    expect(tally.counts).toEqual({
      invoice_payment: { listed: 1, inserted: 1, changed: 0, unchanged: 0, invalid: 0 },
      charge: { listed: 2, inserted: 0, changed: 0, unchanged: 0, invalid: 2 },
      refund: { listed: 0, inserted: 0, changed: 0, unchanged: 0, invalid: 0 },
      credit_note: { listed: 1, inserted: 0, changed: 0, unchanged: 0, invalid: 1 },
    });
    expect(tally.changes.map((c) => [c.object, c.id, c.action])).toEqual([
      ['invoice_payment', payment['id'], 'inserted'],
      ['charge', charge['id'], 'invalid'],
      ['credit_note', broken['id'], 'invalid'],
      ['charge', 'ch_gone', 'invalid'],
    ]);
  });
});

describe('eventPatterns', () => {
  it('lists each kind’s pattern once, and every type a kind carries falls under one of them', () => {
    const patterns = eventPatterns();
    expect(new Set(patterns).size).toBe(patterns.length);
    expect(patterns).toEqual(expect.arrayContaining(['invoice.*', 'invoice_payment.*', 'charge.*', 'refund.*', 'credit_note.*', 'customer.*']));
    const under = (type: string) => patterns.some((p) => type.startsWith(p.slice(0, -1)));
    for (const kind of OBJECT_KINDS) for (const type of kind.eventTypes) expect([type, under(type)]).toEqual([type, true]);
    // What charge.* and customer.* also list is carried by another kind or by none.
    expect(kindOfEvent('charge.refund.updated')?.object).toBe('refund');
    expect(kindOfEvent('charge.dispute.created')).toBeNull();
    expect(kindOfEvent('customer.subscription.created')).toBeNull();
  });
});
