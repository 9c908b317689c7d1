// What the benchmark sends: Stripe's invoice fixture as webhooks, and whole lifecycles for the drain.
import { createHmac, randomBytes } from 'node:crypto';
import { paidLifecycle, event, invoice, TEST_SECRET } from '../support/stripe-events';
import { chargeObject, invoicePaymentObject, paymentEvent } from '../support/payment-events';
import { resentAs, seededRandom, shuffle, voidLifecycle, type StripeEvent } from '../integration/helpers';

export interface SignedWebhook {
  body: string;
  signature: string;
  eventId: string;
  invoiceId: string;
}

/**
 * A distinct, freshly signed `invoice.finalized` (~4 KB, Stripe's fixture) per call. The JSON is
 * serialised once and the ids are spliced in, so the load generator spends its time sending rather
 * than re-serialising the fixture: it shares the two cores with what it measures.
 */
export function webhookFactory(secret = TEST_SECRET): () => SignedWebhook {
  const EVT = 'evt_@@@@@@@@@@@@@@@@@@@@@@@@';
  const INV = 'in_########################';
  const template = JSON.stringify(event('invoice.finalized', invoice({ id: INV, status: 'open', due_date: null }), { id: EVT }));
  const parts = template.split(EVT).map((p) => p.split(INV));
  const prefix = randomBytes(4).toString('hex');
  let n = 0;
  return () => {
    const serial = `${prefix}${(n++).toString(36).padStart(10, '0')}`;
    const eventId = `evt_${serial}`;
    const invoiceId = `in_${serial}`;
    const body = parts.map((p) => p.join(invoiceId)).join(eventId);
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
    return { body, signature: `t=${t},v1=${v1}`, eventId, invoiceId };
  };
}

export interface DrainWorkload {
  bodies: string[];
  /** Distinct event ids among the bodies: what the event log holds once the drain is done. */
  distinctEvents: number;
  invoices: number;
  /** Invoices that end paid, each with one payment and one charge. */
  paidInvoices: number;
}

/**
 * What Stripe sends besides the invoice's own events when an invoice is paid, as an endpoint on a
 * current API version receives it: the InvoicePayment, and the charge (which no longer names the
 * invoice; the link is the payment intent) succeeding and then updated with its balance
 * transaction. About 3 per paid invoice.
 */
function paymentEvents(invoiceId: string, at: number, amount: number): StripeEvent[] {
  const serial = invoiceId.slice('in_'.length);
  const paymentIntent = `pi_${serial}`;
  const payment = invoicePaymentObject(invoiceId, { id: `inpay_${serial}`, paymentIntent, amount, created: at });
  const charge = chargeObject({ id: `ch_${serial}`, paymentIntent, amount, created: at });
  return [
    paymentEvent('invoice_payment.paid', payment, { id: `evt_pay_${serial}`, created: at + 1 }),
    paymentEvent('charge.succeeded', charge, { id: `evt_chs_${serial}`, created: at }),
    paymentEvent('charge.updated', { ...charge, balance_transaction: `txn_${serial}` }, { id: `evt_chu_${serial}`, created: at + 1 }),
  ] as StripeEvent[];
}

/**
 * `invoices` whole lifecycles, shuffled: the six lifecycle events, the three payment and charge
 * events of a paid one, one re-sent under a new event id (Stripe's "same change, second id"), and
 * three exact redeliveries. Half end paid without a due date, a quarter paid with one (dunning is
 * reviewed), a quarter void: 10 messages per void invoice, 13 per paid one.
 */
export function drainWorkload(invoices: number, tag: string, seed = 20_000): DrainWorkload {
  const random = seededRandom(seed);
  const now = Math.floor(Date.now() / 1000);
  const bodies: string[] = [];
  let distinct = 0;
  for (let i = 0; i < invoices; i++) {
    const id = `in_${tag}_${i.toString().padStart(7, '0')}`;
    const start = now - 7_200 + (i % 3_600);
    const opts = { amount: 500 + (i % 997), customer: `cus_${tag}_${i % 500}` };
    const paid = i % 4 !== 3;
    const lifecycle: StripeEvent[] = paid ? paidLifecycle(id, start, { ...opts, dueDate: i % 4 === 1 ? start + 30 * 86_400 : null }) : voidLifecycle(id, start, opts);
    const resent = resentAs(lifecycle[1 + Math.floor(random() * 5)]!);
    const money = paid ? paymentEvents(id, start + 3, opts.amount) : [];
    const events = [...lifecycle, ...money, resent].map((e) => JSON.stringify(e));
    distinct += events.length;
    const again = [0, 1, 2].map(() => events[Math.floor(random() * events.length)]!);
    bodies.push(...events, ...again);
  }
  return { bodies: shuffle(bodies, random), distinctEvents: distinct, invoices, paidInvoices: invoices - Math.floor(invoices / 4) };
}

export interface LifecycleStream {
  /** Unsigned bodies in sending order; each invoice's events in the order Stripe emits them. */
  bodies: string[];
  eventIds: string[];
}

/**
 * `count` events as an account produces them: whole lifecycles (paid, paid with a due date, void),
 * each invoice's events in order and a few events apart, many invoices interleaved. About half the
 * events queue an email notice, as a real stream does.
 */
export function lifecycleStream(count: number, tag: string, seed = 300): LifecycleStream {
  const random = seededRandom(seed);
  const now = Math.floor(Date.now() / 1000);
  const slots: Array<{ at: number; body: string; id: string }> = [];
  for (let i = 0; slots.length < count; i++) {
    const id = `in_${tag}_${i.toString().padStart(7, '0')}`;
    const opts = { amount: 500 + (i % 997), customer: `cus_${tag}_${i % 500}` };
    const lifecycle: StripeEvent[] =
      i % 4 === 3 ? voidLifecycle(id, now, opts) : paidLifecycle(id, now, { ...opts, dueDate: i % 4 === 1 ? now + 30 * 86_400 : null });
    const start = random() * count;
    lifecycle.forEach((e, k) => slots.push({ at: start + k * 5 + random(), body: JSON.stringify(e), id: e['id'] as string }));
  }
  slots.sort((a, b) => a.at - b.at);
  const kept = slots.slice(0, count);
  return { bodies: kept.map((s) => s.body), eventIds: kept.map((s) => s.id) };
}

/** Signs stored bodies as they are sent, so the timestamp is fresh whenever the send happens. */
export function signedFrom(bodies: string[], eventIds: string[], secret = TEST_SECRET): () => SignedWebhook {
  let n = 0;
  return () => {
    const i = n++ % bodies.length;
    const body = bodies[i]!;
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
    return { body, signature: `t=${t},v1=${v1}`, eventId: eventIds[i]!, invoiceId: '' };
  };
}
