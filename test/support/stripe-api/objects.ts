/**
 * Stripe's own objects (the OpenAPI fixtures stripe-mock serves, copied into resources.json) with
 * the fields a test cares about replaced, for the test Stripe API to serve. The fixtures' own
 * placeholders (`"currency": "currency"`, `"status": "status"`) are replaced by values Stripe
 * would send, so an object built with no overrides is one Stripe could return.
 */
import { randomBytes } from 'node:crypto';
import resources from './resources.json';

type Json = Record<string, unknown>;

const id = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;
const base = (name: keyof typeof resources): Json => structuredClone(resources[name]) as Json;
const now = () => Math.floor(Date.now() / 1000);

/**
 * An invoice payment (`inpay_…`) of `invoice`, paid by a PaymentIntent unless `payment` says
 * otherwise (`{ type: 'charge', charge: 'ch_…' }` for a charge without one).
 */
export function invoicePaymentObject(invoice: string, overrides: Json = {}): Json {
  const created = (overrides['created'] as number | undefined) ?? now();
  return {
    ...base('invoice_payment'),
    id: id('inpay'),
    invoice,
    currency: 'usd',
    amount_requested: 1000,
    amount_paid: 1000,
    created,
    livemode: false,
    is_default: true,
    payment: { type: 'payment_intent', payment_intent: id('pi') },
    status: 'paid',
    status_transitions: { canceled_at: null, paid_at: created },
    ...overrides,
  };
}

/** A succeeded card charge (`ch_…`) with a receipt, no refunds, not disputed. */
export function chargeObject(overrides: Json = {}): Json {
  const chargeId = (overrides['id'] as string | undefined) ?? id('ch');
  return {
    ...base('charge'),
    id: chargeId,
    amount: 1000,
    amount_captured: 1000,
    amount_refunded: 0,
    captured: true,
    created: now(),
    currency: 'usd',
    customer: 'cus_test',
    paid: true,
    payment_intent: null,
    receipt_url: `https://pay.stripe.com/receipts/payment/${chargeId}`,
    refunded: false,
    refunds: { object: 'list', data: [], has_more: false, url: `/v1/charges/${chargeId}/refunds` },
    status: 'succeeded',
    // The fixture's charge is also a Connect transfer from a legacy source; an invoice's charge is neither.
    transfer_data: null,
    source: null,
    ...overrides,
  };
}

/** A succeeded refund (`re_…`) of `charge`. */
export function refundObject(charge: string, overrides: Json = {}): Json {
  return { ...base('refund'), id: id('re'), charge, amount: 500, created: now(), currency: 'usd', status: 'succeeded', ...overrides };
}

/** An issued credit note (`cn_…`) on `invoice`, after its payment (a refund or credit, not a reduction of what is due). */
export function creditNoteObject(invoice: string, overrides: Json = {}): Json {
  const cnId = (overrides['id'] as string | undefined) ?? id('cn');
  const amount = (overrides['amount'] as number | undefined) ?? 500;
  return {
    ...base('credit_note'),
    id: cnId,
    invoice,
    amount,
    subtotal: amount,
    subtotal_excluding_tax: amount,
    total: amount,
    total_excluding_tax: amount,
    created: now(),
    effective_at: now(),
    currency: 'usd',
    customer: 'cus_test',
    number: `CN-${cnId.slice(-6)}`,
    pdf: `https://pay.stripe.com/credit_notes/${cnId}/pdf`,
    type: 'post_payment',
    status: 'issued',
    voided_at: null,
    shipping_cost: null,
    post_payment_amount: amount,
    pre_payment_amount: 0,
    refunds: [],
    lines: { object: 'list', data: [], has_more: false, url: `/v1/credit_notes/${cnId}/lines` },
    ...overrides,
  };
}

/** A customer (`cus_…`) with an email and a name. */
export function customerObject(overrides: Json = {}): Json {
  return { ...base('customer'), id: id('cus'), email: 'ada@example.com', name: 'Ada Lovelace', created: now(), discount: null, ...overrides };
}

/**
 * An enabled webhook endpoint (`we_…`) as Stripe lists it (no `secret`: Stripe returns that only
 * when the endpoint is created), at the account's default API version unless `api_version` says.
 */
export function webhookEndpointObject(overrides: Json = {}): Json {
  return {
    ...base('webhook_endpoint'),
    id: id('we'),
    api_version: null,
    created: now(),
    description: null,
    enabled_events: ['invoice.paid'],
    livemode: false,
    metadata: {},
    status: 'enabled',
    url: 'https://billing.example.com/webhooks/stripe',
    ...overrides,
  };
}
