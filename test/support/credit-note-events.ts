/**
 * Credit note and customer events as Stripe sends them, from Stripe's own fixtures
 * (test/fixtures/stripe, copied from stripe-mock's fixtures3.json) with the fields a test cares
 * about replaced.
 */
import { event, fixture, uid } from './stripe-events';

type Json = Record<string, unknown>;

const baseCreditNote = fixture('credit_note_fixture.json');
const baseCustomer = fixture('customer_fixture.json');

/** Stripe's credit note fixture as it is (its amounts do not add up, and it is issued with a voided_at). */
export const creditNoteFixture = (): Json => structuredClone(baseCreditNote);
export const customerFixture = (): Json => structuredClone(baseCustomer);

export interface CreditNoteOptions {
  id?: string;
  invoice?: string | Json;
  customer?: string | Json;
  type?: 'pre_payment' | 'post_payment' | 'mixed';
  total?: number;
  status?: string;
  voidedAt?: number | null;
  created?: number;
  [field: string]: unknown;
}

/**
 * A credit note whose numbers agree: a post-payment one by default (all of the total credited
 * after payment, as a refund), issued at `created`.
 */
export function creditNote(o: CreditNoteOptions = {}): Json {
  const { id, invoice, customer, type = 'post_payment', total = 1500, status = 'issued', voidedAt, created = 1_700_000_000, ...rest } = o;
  const cnId = id ?? uid('cn');
  const pre = type === 'pre_payment' ? total : type === 'post_payment' ? 0 : Math.floor(total / 2);
  return {
    ...creditNoteFixture(),
    id: cnId,
    invoice: invoice ?? uid('in'),
    customer: customer ?? 'cus_test',
    number: `CN-${cnId.slice(-6).toUpperCase()}`,
    status,
    type,
    reason: 'order_change',
    amount: total,
    subtotal: total,
    subtotal_excluding_tax: total,
    total,
    total_excluding_tax: total,
    pre_payment_amount: pre,
    post_payment_amount: total - pre,
    out_of_band_amount: null,
    currency: 'usd',
    created,
    effective_at: created,
    voided_at: voidedAt === undefined ? (status === 'void' ? created + 60 : null) : voidedAt,
    refunds: [],
    lines: { object: 'list', data: [], has_more: false, url: `/v1/credit_notes/${cnId}/lines` },
    pdf: `https://pay.stripe.com/credit_notes/${cnId}/pdf`,
    ...rest,
  };
}

/** The same credit note as Stripe voids it at `at`. */
export const voided = (cn: Json, at: number): Json => ({ ...cn, status: 'void', voided_at: at });

/** A layout from before pre_payment_amount and post_payment_amount (and the type mixed). */
export function olderCreditNote(cn: Json): Json {
  const copy = { ...cn };
  delete copy['pre_payment_amount'];
  delete copy['post_payment_amount'];
  delete copy['refunds'];
  delete copy['pretax_credit_amounts'];
  delete copy['total_taxes'];
  delete copy['customer_account'];
  return copy;
}

export const creditNoteEvent = (type: string, cn: Json, opts: { id?: string; created?: number } = {}) => event(type, cn, opts);

/** A customer with an email and a name. */
export function customer(o: { id?: string; email?: string | null; name?: string | null; created?: number } & Json = {}): Json {
  const { id, email, name, created, ...rest } = o;
  return {
    ...customerFixture(),
    id: id ?? uid('cus'),
    email: email === undefined ? 'ada@example.com' : email,
    name: name === undefined ? 'Ada Lovelace' : name,
    created: created ?? 1_700_000_000,
    discount: null,
    ...rest,
  };
}

/** What Stripe answers for a deleted customer, and what a thin customer.deleted stands for. */
export const deletedCustomerStub = (id: string): Json => ({ id, object: 'customer', deleted: true });

export const customerEvent = (type: string, c: Json, opts: { id?: string; created?: number } = {}) => event(type, c, opts);

/** A thin event as Stripe's event destinations send it: a reference to a credit note or customer, no snapshot. */
export function thinObjectEvent(type: string, object: 'credit_note' | 'customer', objectId: string, opts: { id?: string; created?: Date } = {}): Json {
  const path = object === 'credit_note' ? 'credit_notes' : 'customers';
  return {
    id: opts.id ?? uid('evt_test'),
    object: 'v2.core.event',
    type,
    created: (opts.created ?? new Date()).toISOString(),
    livemode: false,
    reason: null,
    related_object: { id: objectId, type: object, url: `/v1/${path}/${objectId}` },
  };
}
