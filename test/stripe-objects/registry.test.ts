import { identifyEvent } from '../../src/stripe-objects/identify-event';
import { kindOfEvent, kindOfThinEvent, OBJECT_KINDS, SNAPSHOT_EVENT_TYPES } from '../../src/stripe-objects/registry';
import { fixture } from '../support/stripe-events';

interface EventTypes {
  event_types: Array<{ type: string; data_object_type: string }>;
}
interface ThinTypes {
  thin_event_types: Array<{ type: string }>;
}

// Stripe's own lists, from the `stripe` package's types: the oracle for what each kind subscribes to.
const snapshotTypes = fixture<EventTypes>('current_invoice_event_types.json').event_types;
const thinTypes = fixture<ThinTypes>('current_thin_invoice_event_types.json').thin_event_types.map((t) => t.type);

describe('the registry', () => {
  it('subscribes the invoice kind to every invoice event Stripe lists but the preview', () => {
    const invoice = OBJECT_KINDS.find((k) => k.object === 'invoice')!;
    const expected = snapshotTypes.filter((t) => t.data_object_type === 'Invoice' && t.type !== 'invoice.upcoming').map((t) => t.type);
    expect([...invoice.eventTypes].sort()).toEqual(expected.sort());
    expect([...invoice.thinEventTypes].sort()).toEqual(thinTypes.filter((t) => t.startsWith('v1.invoice.') && t !== 'v1.invoice.upcoming').sort());
  });

  it('names every type a kind subscribes to exactly once, and each kind carries its own types', () => {
    expect(new Set(SNAPSHOT_EVENT_TYPES).size).toBe(SNAPSHOT_EVENT_TYPES.length);
    for (const kind of OBJECT_KINDS) {
      for (const t of kind.eventTypes) expect(kindOfEvent(t)).toBe(kind);
      for (const t of kind.thinEventTypes) expect(kindOfThinEvent(t)).toBe(kind);
    }
  });

  it.each(['invoice.upcoming', 'invoiceitem.created', 'customer.subscription.created', 'charge.dispute.created', '', 'invoice'])(
    'handles no %j event today',
    (type) => expect(kindOfEvent(type)).toBeNull(),
  );

  it('takes invoice events Stripe adds later under the same prefix', () => {
    expect(kindOfEvent('invoice.something_new')?.object).toBe('invoice');
    expect(kindOfThinEvent('v1.invoice.something_new')?.object).toBe('invoice');
    expect(kindOfThinEvent('v1.invoice.upcoming')).toBeNull();
  });
});

describe('the registry of the money behind invoices', () => {
  const kind = (object: string) => OBJECT_KINDS.find((k) => k.object === object)!;

  it('applies invoice payments, then charges, then refunds, right after invoices', () => {
    const objects = OBJECT_KINDS.map((k) => k.object);
    expect(objects.slice(objects.indexOf('invoice'), objects.indexOf('invoice') + 4)).toEqual(['invoice', 'invoice_payment', 'charge', 'refund']);
  });

  it('subscribes the invoice payment kind to the invoice payment events Stripe lists, snapshot and thin', () => {
    expect(kind('invoice_payment').eventTypes).toEqual(snapshotTypes.filter((t) => t.type.startsWith('invoice_payment.')).map((t) => t.type));
    expect([...kind('invoice_payment').thinEventTypes].sort()).toEqual(thinTypes.filter((t) => t.startsWith('v1.invoice_payment.')).sort());
  });

  it.each<[string, string]>([
    ['invoice_payment.paid', 'invoice_payment'],
    ['invoice_payment.something_new', 'invoice_payment'],
    ...['captured', 'expired', 'failed', 'pending', 'refunded', 'succeeded', 'updated'].map((t): [string, string] => [`charge.${t}`, 'charge']),
    ['refund.created', 'refund'],
    ['refund.updated', 'refund'],
    ['refund.failed', 'refund'],
    // Listed with charge.* events, but its data.object is a Refund.
    ['charge.refund.updated', 'refund'],
  ])('routes %s to the %s kind, and its thin twin too', (type, object) => {
    expect(kindOfEvent(type)?.object).toBe(object);
    expect(kindOfThinEvent(`v1.${type}`)?.object).toBe(object);
  });

  it.each(['charge.dispute.created', 'charge.dispute.closed', 'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated', 'charge.dispute.updated', 'invoicepayment.paid', 'charges.succeeded'])(
    'leaves %s (not one of these objects) to no kind',
    (type) => {
      expect(kindOfEvent(type)).toBeNull();
      expect(kindOfThinEvent(`v1.${type}`)).toBeNull();
    },
  );

  it('has no type carried by two kinds, among every type any kind names', () => {
    const types = OBJECT_KINDS.flatMap((k) => [...k.eventTypes, 'charge.dispute.created', 'charge.refund.updated', 'invoice_payment.paid']);
    for (const type of types) expect([type, OBJECT_KINDS.filter((k) => k.carries(type)).length]).toEqual([type, type.startsWith('charge.dispute.') ? 0 : 1]);
    const thin = OBJECT_KINDS.flatMap((k) => k.thinEventTypes);
    for (const type of thin) expect([type, OBJECT_KINDS.filter((k) => k.carriesThin(type)).length]).toEqual([type, 1]);
  });

  it('lists each kind under a wildcard whose events the kind carries', () => {
    for (const k of OBJECT_KINDS) for (const t of k.eventTypes.filter((t) => !t.startsWith('charge.refund.'))) expect(t.startsWith(k.eventPattern.replace('*', ''))).toBe(true);
    // charge.refund.updated is listed under charge.*, and the registry routes it.
    expect('charge.refund.updated'.startsWith(kind('charge').eventPattern.replace('*', ''))).toBe(true);
  });
});

describe('identifyEvent', () => {
  it('reads a snapshot event, a Connect account included', () => {
    expect(identifyEvent({ id: 'evt_1', type: 'invoice.paid', created: 1_700_000_000, livemode: true, api_version: '2019-03-14', account: 'acct_1', data: { object: { id: 'in_1', object: 'invoice' } } })).toEqual({
      id: 'evt_1',
      type: 'invoice.paid',
      thin: false,
      object: 'invoice',
      objectId: 'in_1',
      account: 'acct_1',
      created: 1_700_000_000,
      livemode: true,
      apiVersion: '2019-03-14',
    });
  });

  it('reads a thin event, dated by its ISO time, its account from the context', () => {
    expect(identifyEvent({ id: 'evt_t', object: 'v2.core.event', type: 'v1.invoice.paid', created: '2026-01-02T03:04:05.678Z', context: 'acct_2', related_object: { id: 'in_2', type: 'invoice' } })).toMatchObject({
      id: 'evt_t',
      thin: true,
      object: 'invoice',
      objectId: 'in_2',
      account: 'acct_2',
      created: Math.floor(Date.parse('2026-01-02T03:04:05.678Z') / 1000),
    });
  });

  it('unwraps an EventBridge envelope', () => {
    const detail = { id: 'evt_eb', type: 'invoice.paid', created: 1, data: { object: { id: 'in_3', object: 'invoice' } } };
    expect(identifyEvent({ 'detail-type': 'invoice.paid', source: 'aws.partner/stripe.com/x', detail })).toMatchObject({ id: 'evt_eb', objectId: 'in_3' });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'evt_1'],
    ['an array', [{ id: 'evt_1' }]],
    ['an object with nothing of an event', {}],
    ['ids that are not strings', { id: 42, type: ['invoice.paid'], data: { object: { id: 7, object: 'invoice' } } }],
    ['a created that is no time', { id: 'evt_1', created: 'yesterday' }],
    ['a negative created', { id: 'evt_1', created: -5 }],
  ])('never throws, and reads nothing it cannot trust, from %s', (_name, raw) => {
    const who = identifyEvent(raw);
    expect(typeof who.id === 'string' || who.id === null).toBe(true);
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && typeof (raw as { id?: unknown }).id !== 'string') expect(who.id).toBeNull();
    expect(who.created === null || Number.isSafeInteger(who.created)).toBe(true);
    expect(who.objectId === null || typeof who.objectId === 'string').toBe(true);
  });
});
