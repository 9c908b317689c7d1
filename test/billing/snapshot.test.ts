import { mergeInvoice } from '../../src/billing/merge';
import { snapshotFromEvent } from '../../src/billing/snapshot';
import { MalformedEventError } from '../../src/errors';
import { fixture } from '../support/stripe-events';
import { NOW, draftInvoice } from './invoice-events';

const eventWith = (object: unknown, overrides: Record<string, unknown> = {}) => ({
  id: 'evt_1Fixture',
  object: 'event',
  type: 'invoice.created',
  created: 1_234_567_900,
  livemode: false,
  api_version: '2026-10-28.endive',
  data: { object },
  ...overrides,
});

describe('snapshotFromEvent with Stripe fixtures', () => {
  it('reads the official invoice fixture', () => {
    const snapshot = snapshotFromEvent(eventWith(fixture('invoice_fixture.json')));
    expect(snapshot).toEqual({
      eventId: 'evt_1Fixture',
      eventType: 'invoice.created',
      eventCreated: 1_234_567_900,
      livemode: false,
      apiVersion: '2026-10-28.endive',
      account: null,
      stripeInvoiceId: 'in_1Pgc6tB7WZ01zgkWu9fdqL6I',
      stub: false,
      deleted: false,
      fields: {
        stripeCustomerId: 'cus_QXg1o8vcGmoR32',
        customerEmail: null,
        customerName: null,
        number: null,
        status: 'draft',
        amountCents: 1000,
        amountPaidCents: 0,
        amountRemainingCents: 1000,
        totalCents: 1000,
        currency: 'usd',
        dueDate: 1_234_567_890,
        collectionMethod: 'charge_automatically',
        billingReason: 'manual',
        hostedInvoiceUrl: null,
        invoicePdfUrl: null,
        livemode: false,
        metadata: {},
        attemptCount: 0,
        stripeCreatedAt: 1_234_567_890,
        finalizedAt: null,
        paidAt: null,
        voidedAt: null,
        markedUncollectibleAt: null,
      },
    });
  });

  it('turns the fixture into a draft row that is not overdue despite its past due date', () => {
    const row = mergeInvoice(null, snapshotFromEvent(eventWith(fixture('invoice_fixture.json'))), NOW);
    expect(row).toMatchObject({ status: 'draft', dueDate: 1_234_567_890, overdue: false, deletedAt: null, lastEventId: 'evt_1Fixture' });
  });

  it('reads the deletion stub as a deletion that carries no fields', () => {
    const snapshot = snapshotFromEvent(eventWith(fixture('deleted_invoice_fixture.json'), { type: 'invoice.deleted' }));
    expect(snapshot).toMatchObject({ stripeInvoiceId: 'in_1Pgc6tB7WZ01zgkWu9fdqL6I', stub: true, deleted: true, fields: null });
  });

  it('marks a full invoice object in invoice.deleted as deleted', () => {
    const snapshot = snapshotFromEvent(eventWith(draftInvoice(), { type: 'invoice.deleted' }));
    expect(snapshot).toMatchObject({ stub: false, deleted: true, fields: { status: 'draft' } });
  });

  it('lowercases the currency, so "USD" and "usd" are one currency', () => {
    const snapshot = snapshotFromEvent(eventWith({ ...fixture<Record<string, unknown>>('invoice_fixture.json'), currency: 'USD' }));
    expect(snapshot.fields?.currency).toBe('usd');
  });

  it('takes the id of an expanded customer', () => {
    const snapshot = snapshotFromEvent(eventWith(draftInvoice({ customer: { id: 'cus_Expanded', object: 'customer' } as never })));
    expect(snapshot.fields?.stripeCustomerId).toBe('cus_Expanded');
  });
});

describe('snapshotFromEvent rejects malformed events, naming what is wrong', () => {
  const valid = draftInvoice();
  const { id: _dropped, ...withoutId } = valid;

  it.each<[string, unknown, RegExp]>([
    ['a missing data.object.id', eventWith(withoutId), /\bid\b/],
    ["status 'overdue' (Stripe has no such status)", eventWith({ ...valid, status: 'overdue' }), /status/],
    ['amount_due as a string', eventWith({ ...valid, amount_due: '2500' }), /amount_due/],
    ['a two-letter currency', eventWith({ ...valid, currency: 'us' }), /currency.*three-letter/],
    ['a float amount', eventWith({ ...valid, amount_paid: 12.5 }), /amount_paid/],
    ['a float total', eventWith({ ...valid, total: 2500.01 }), /total/],
    ['a non-object event (null)', null, /not a Stripe event/],
    ['a non-object event (string)', '{"id":"evt_1"}', /not a Stripe event/],
    ['a non-object event (number)', 42, /not a Stripe event/],
    ['an event without data.object', { ...eventWith(valid), data: {} }, /data\.object/],
    ['an event with a float created', eventWith(valid, { created: 1_700_000_000.5 }), /created/],
  ])('%s', (_name, event, message) => {
    let thrown: unknown;
    try {
      snapshotFromEvent(event);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MalformedEventError);
    expect((thrown as MalformedEventError).message).toMatch(message);
    // The consumer routes on this flag: a malformed event must not be retried.
    expect((thrown as MalformedEventError).retryable).toBe(false);
  });
});
