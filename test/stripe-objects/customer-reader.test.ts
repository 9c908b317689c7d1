// Reading customer events: which event types carry a Customer (and which only share its prefix),
// Stripe's fixture, the deletion stub, and every bad input answered with MalformedEventError.
import { MalformedEventError } from '../../src/errors';
import { customerKind } from '../../src/stripe-objects/customer';
import { readCustomerEvent } from '../../src/stripe-objects/customer-schema';
import { kindOfEvent, kindOfThinEvent, OBJECT_KINDS } from '../../src/stripe-objects/registry';
import { customer, customerEvent, customerFixture, deletedCustomerStub } from '../support/credit-note-events';

const at = 1_700_000_200;

describe('the customer kind', () => {
  it.each(['customer.created', 'customer.updated', 'customer.deleted'])('carries %s, and its thin twin', (type) => {
    expect(kindOfEvent(type)).toBe(customerKind);
    expect(kindOfThinEvent(`v1.${type}`)).toBe(customerKind);
  });

  it.each([
    'customer.subscription.created',
    'customer.subscription.updated',
    'customer.subscription.deleted',
    'customer.subscription.trial_will_end',
    'customer.discount.created',
    'customer.discount.deleted',
    'customer.source.created',
    'customer.source.expiring',
    'customer.tax_id.created',
    'customer.tax_id.updated',
    'customer.bank_account.created',
    'customer.card.created',
    'customer.cash_balance_transaction.created',
    'customer',
    'customer.',
    'customers.created',
    'customer_cash_balance_transaction.created',
  ])('does not carry %s, whose object is no Customer', (type) => {
    expect(customerKind.carries(type)).toBe(false);
    expect(customerKind.carriesThin(`v1.${type}`)).toBe(false);
    // No other kind carries one of these either: the processor does not handle them.
    expect(OBJECT_KINDS.filter((k) => k.carries(type)).map((k) => k.object)).not.toContain('customer');
  });

  it('takes a one-word customer event Stripe adds later', () => {
    expect(kindOfEvent('customer.merged')).toBe(customerKind);
  });

  it('is no carrier of a type another kind carries', () => {
    for (const type of [...customerKind.eventTypes, 'customer.subscription.created', 'customer.discount.created']) {
      expect(OBJECT_KINDS.filter((k) => k.carries(type)).length).toBeLessThanOrEqual(1);
    }
  });

  it('lists customer.* from Stripe and files nothing under an invoice', () => {
    expect(customerKind.eventPattern).toBe('customer.*');
    const s = readCustomerEvent(customerEvent('customer.updated', customer()));
    expect(customerKind.invoiceOf(s)).toBeNull();
    expect(customerKind.invoiceOfObjectId('cus_1')).toBeNull();
  });

  it('takes a thin customer.deleted whose customer Stripe no longer has as the deletion stub, and nothing else', () => {
    expect(customerKind.goneObject('customer.deleted', 'cus_Gone')).toEqual(deletedCustomerStub('cus_Gone'));
    expect(customerKind.goneObject('customer.updated', 'cus_Gone')).toBeNull();
  });
});

describe('reading a customer', () => {
  it("reads Stripe's fixture: no email, no name", () => {
    expect(readCustomerEvent(customerEvent('customer.created', customerFixture(), { id: 'evt_fx', created: at }))).toEqual({
      eventId: 'evt_fx',
      eventType: 'customer.created',
      eventCreated: at,
      livemode: false,
      apiVersion: '2026-10-28.endive',
      account: null,
      stripeCustomerId: 'cus_QXg1o8vcGmoR32',
      deleted: false,
      fields: { email: null, name: null },
    });
  });

  it('keeps the email as sent, valid or not: the reducer decides what may be mailed', () => {
    expect(readCustomerEvent(customerEvent('customer.updated', customer({ email: '  Ada@Example.COM ', name: 'Ada' }))).fields).toEqual({ email: '  Ada@Example.COM ', name: 'Ada' });
    expect(readCustomerEvent(customerEvent('customer.updated', customer({ email: 'not an address' }))).fields?.email).toBe('not an address');
  });

  it('reads customer.deleted with the whole customer as a deletion that also says what the customer was', () => {
    const s = readCustomerEvent(customerEvent('customer.deleted', customer({ id: 'cus_Del', email: 'gone@example.com' }), { created: at }));
    expect(s).toMatchObject({ stripeCustomerId: 'cus_Del', deleted: true, fields: { email: 'gone@example.com' } });
  });

  it('reads the stub Stripe answers for a deleted customer as a deletion that says nothing else, whatever the event type', () => {
    for (const type of ['customer.deleted', 'customer.updated']) {
      expect(readCustomerEvent(customerEvent(type, deletedCustomerStub('cus_Stub'), { created: at }))).toMatchObject({ stripeCustomerId: 'cus_Stub', deleted: true, fields: null });
    }
  });

  describe('bad input', () => {
    const without = (field: string) => {
      const c = customer();
      delete c[field];
      return c;
    };
    it.each<[string, Record<string, unknown>, RegExp]>([
      ['a customer without id', without('id'), /^invalid customer in customer\.updated: id: missing/],
      ['an empty id', { ...customer(), id: '' }, /id: /],
      ['a stub without id', { object: 'customer', deleted: true }, /id: missing/],
      ['another object', { ...customer(), object: 'subscription' }, /object: /],
      ['no object name', without('object'), /object: /],
      ['an email that is no string', { ...customer(), email: 42 }, /email: /],
      ['a name of an object', { ...customer(), name: { first: 'Ada' } }, /name: /],
    ])('refuses %s with MalformedEventError', (_name, object, message) => {
      const read = () => readCustomerEvent(customerEvent('customer.updated', object));
      expect(read).toThrow(MalformedEventError);
      expect(read).toThrow(message);
    });

    it('refuses what is no event', () => {
      expect(() => readCustomerEvent({ type: 'customer.updated', data: { object: customer() } })).toThrow(/not a Stripe event: id: missing/);
    });
  });
});
