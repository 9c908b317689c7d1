/**
 * Invoice payments, charges and refunds as Stripe sends them: Stripe's own objects (the OpenAPI
 * fixtures of fixtures3.json, copied into stripe-api/resources.json) with the fields a test cares
 * about replaced, and the fixtures' placeholders (`"currency": "currency"`, `"status": "status"`)
 * replaced by values Stripe would send.
 */
import resources from './stripe-api/resources.json';
import { event, uid } from './stripe-events';

type Json = Record<string, unknown>;

const base = (name: 'invoice_payment' | 'charge' | 'refund'): Json => structuredClone(resources[name]) as Json;

/** The API versions whose layouts differ: a charge names its invoice before basil and lists its refunds before 2022-11-15. */
export const API = { old: '2020-08-27', listsRefunds: '2022-08-01', basil: '2025-03-31.basil', current: '2026-10-28.endive' } as const;

/** A snapshot event of this API version (the builders' default is the current one). */
export function paymentEvent(type: string, object: Json, opts: { id?: string; created: number; apiVersion?: string; livemode?: boolean }): Json {
  return {
    ...event(type, object, { ...(opts.id ? { id: opts.id } : {}), created: opts.created }),
    api_version: opts.apiVersion ?? API.current,
    livemode: opts.livemode ?? false,
  };
}

/** A paid InvoicePayment of `invoice`, paid by `paymentIntent` (or as `payment` says). */
export function invoicePaymentObject(invoice: string, o: { id?: string; paymentIntent?: string | null; payment?: Json; amount?: number; created?: number; status?: string } = {}): Json {
  const created = o.created ?? 1_700_000_000;
  const amount = o.amount ?? 1000;
  const status = o.status ?? 'paid';
  return {
    ...base('invoice_payment'),
    id: o.id ?? uid('inpay'),
    invoice,
    currency: 'usd',
    amount_requested: amount,
    amount_paid: status === 'paid' ? amount : null,
    created,
    livemode: false,
    is_default: true,
    payment: o.payment ?? { type: 'payment_intent', payment_intent: o.paymentIntent ?? uid('pi') },
    status,
    status_transitions: { canceled_at: status === 'canceled' ? created + 1 : null, paid_at: status === 'paid' ? created + 1 : null },
  };
}

/**
 * A card charge as the current API sends it: no `invoice` (removed 2025-03-31) and no `refunds`
 * (absent since 2022-11-15 unless expanded). `layout: 'old'` adds both, as an endpoint pinned to an
 * older version receives them.
 */
export function chargeObject(o: { id?: string; paymentIntent?: string | null; invoice?: string | null; amount?: number; created?: number; status?: string; amountRefunded?: number; refunds?: Json[]; layout?: 'current' | 'old'; receiptUrl?: string } = {}): Json {
  const id = o.id ?? uid('ch');
  const amount = o.amount ?? 1000;
  const status = o.status ?? 'succeeded';
  const amountRefunded = o.amountRefunded ?? 0;
  const charge: Json = {
    ...base('charge'),
    id,
    amount,
    amount_captured: status === 'succeeded' ? amount : 0,
    amount_refunded: amountRefunded,
    captured: status === 'succeeded',
    paid: status === 'succeeded',
    created: o.created ?? 1_700_000_000,
    currency: 'usd',
    customer: 'cus_test',
    payment_intent: o.paymentIntent ?? null,
    receipt_url: status === 'succeeded' ? (o.receiptUrl ?? `https://pay.stripe.com/receipts/payment/${id}`) : null,
    refunded: amountRefunded >= amount,
    status,
    failure_code: status === 'failed' ? 'card_declined' : null,
    failure_message: status === 'failed' ? 'Your card was declined.' : null,
    // The fixture's charge is also a Connect transfer from a legacy source; an invoice's charge is neither.
    transfer_data: null,
    source: null,
  };
  delete charge['refunds'];
  if (o.layout === 'old') {
    charge['invoice'] = o.invoice ?? null;
    charge['refunds'] = { object: 'list', data: o.refunds ?? [], has_more: false, url: `/v1/charges/${id}/refunds` };
  }
  return charge;
}

/** A refund of `charge` (Stripe's refund object has no livemode). */
export function refundObject(charge: string, o: { id?: string; amount?: number; status?: string; paymentIntent?: string | null; created?: number; failureReason?: string | null } = {}): Json {
  return {
    ...base('refund'),
    id: o.id ?? uid('re'),
    charge,
    payment_intent: o.paymentIntent ?? null,
    amount: o.amount ?? 500,
    created: o.created ?? 1_700_000_000,
    currency: 'usd',
    status: o.status ?? 'succeeded',
    ...(o.failureReason !== undefined ? { failure_reason: o.failureReason } : {}),
  };
}

/** The three events of a paid invoice since API 2025-03-31: the invoice, its InvoicePayment, its charge (which no longer names the invoice). */
export function paidInvoicePayment(invoiceId: string, start: number) {
  const paymentIntent = uid('pi');
  const payment = invoicePaymentObject(invoiceId, { paymentIntent, created: start });
  const charge = chargeObject({ paymentIntent, created: start });
  return {
    paymentIntent,
    payment,
    charge,
    paymentPaid: paymentEvent('invoice_payment.paid', payment, { created: start + 1 }),
    chargeSucceeded: paymentEvent('charge.succeeded', charge, { created: start + 1 }),
  };
}
