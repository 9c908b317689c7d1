/**
 * Invoice payments, charges and refunds through the one pipeline, against PostgreSQL: rows, the
 * links between them in every order of arrival (also from two racing transactions), refunds, and
 * the events that cannot be read. Expected rows are written from the last snapshots Stripe sent,
 * field by field, never from the reducers.
 */
import { findCharge } from '../../src/db/charges';
import { findInvoicePayment } from '../../src/db/invoice-payments';
import { findRefund, refundsOfCharge } from '../../src/db/refunds';
import { MalformedEventError } from '../../src/errors';
import type { ChargeRow } from '../../src/stripe-objects/charge-schema';
import type { InvoicePaymentRow } from '../../src/stripe-objects/invoice-payment-schema';
import { recentEvents } from '../../src/read-models/event-log';
import { objectFetcher } from '../../src/stripe-objects/registry';
import { createStripeClient } from '../../src/stripe/api-client';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { API, chargeObject, invoicePaymentObject, paidInvoicePayment, paymentEvent, refundObject } from '../support/payment-events';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { paidLifecycle, uid } from '../support/stripe-events';

type Json = Record<string, unknown>;

const NOW = 1_800_000_000;
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(8);
});
afterAll(async () => {
  await db?.drop();
});

const apply = (e: Json) => applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => NOW });
const objectOf = (e: Json) => (e['data'] as { object: Json }).object;

/** The charges row for a charge whose last state Stripe sent is `charge`; its invoice as linked. */
function expectedChargeRow(e: Json, stripeInvoiceId: string | null): ChargeRow {
  const ch = objectOf(e);
  return {
    stripeChargeId: ch['id'] as string,
    stripePaymentIntentId: (ch['payment_intent'] as string | null) ?? null,
    stripeInvoiceId,
    stripeCustomerId: (ch['customer'] as string | null) ?? null,
    status: ch['status'] as string,
    amountCents: ch['amount'] as number,
    amountCapturedCents: ch['amount_captured'] as number,
    amountRefundedCents: ch['amount_refunded'] as number,
    refunded: ch['refunded'] as boolean,
    currency: ch['currency'] as string,
    receiptUrl: (ch['receipt_url'] as string | null) ?? null,
    paymentMethodType: (ch['payment_method_details'] as { type: string }).type,
    failureCode: (ch['failure_code'] as string | null) ?? null,
    createdAt: ch['created'] as number,
    livemode: ch['livemode'] as boolean,
    lastEventId: e['id'] as string,
    lastEventCreatedAt: e['created'] as number,
    stripeAccountId: null,
  };
}

/** The invoice_payments row for a payment whose last state is `payment`; its charge as linked. */
function expectedPaymentRow(e: Json, stripeChargeId: string | null): InvoicePaymentRow {
  const p = objectOf(e);
  const payment = p['payment'] as { payment_intent?: string };
  const transitions = p['status_transitions'] as { paid_at: number | null; canceled_at: number | null };
  return {
    stripeInvoicePaymentId: p['id'] as string,
    stripeInvoiceId: p['invoice'] as string,
    stripePaymentIntentId: payment.payment_intent ?? null,
    stripeChargeId,
    status: p['status'] as string,
    amountCents: (p['amount_paid'] as number | null) ?? 0,
    amountRequestedCents: p['amount_requested'] as number,
    currency: p['currency'] as string,
    isDefault: p['is_default'] as boolean,
    paidAt: transitions.paid_at,
    canceledAt: transitions.canceled_at,
    createdAt: p['created'] as number,
    livemode: p['livemode'] as boolean,
    lastEventId: e['id'] as string,
    lastEventCreatedAt: e['created'] as number,
    stripeAccountId: null,
  };
}

const permutations = <T>(items: readonly T[]): T[][] =>
  items.length <= 1 ? [[...items]] : items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));

async function rowsOfInvoice(invoiceId: string) {
  const [payments, charges] = await Promise.all([
    db.ds.query(`SELECT stripe_invoice_payment_id, stripe_charge_id FROM invoice_payments WHERE stripe_invoice_id = $1`, [invoiceId]),
    db.ds.query(`SELECT stripe_charge_id, receipt_url FROM charges WHERE stripe_invoice_id = $1`, [invoiceId]),
  ]);
  return { payments, charges };
}

describe('a paid invoice: invoice.paid, invoice_payment.paid and charge.succeeded', () => {
  const names = ['invoice.paid', 'invoice_payment.paid', 'charge.succeeded'] as const;

  it.each(permutations([0, 1, 2]).flatMap((order) => [order, order]).map((order, i) => [order.map((k) => names[k]).join(' → '), order, i] as const))(
    'in the order %s (each event delivered twice) gives one payment, one charge linked to the invoice, and its receipt',
    async (_name, order, run) => {
      const invoiceId = uid('in');
      const start = 1_700_000_000 + run * 100;
      const invoicePaid = paidLifecycle(invoiceId, start)[4]!;
      const p = paidInvoicePayment(invoiceId, start + 3);
      const events = [invoicePaid, p.paymentPaid, p.chargeSucceeded];
      for (const k of [...order, ...order]) await apply(events[k]!);

      const charge = objectOf(p.chargeSucceeded);
      expect(await rowsOfInvoice(invoiceId)).toEqual({
        payments: [{ stripe_invoice_payment_id: p.payment['id'], stripe_charge_id: charge['id'] }],
        charges: [{ stripe_charge_id: charge['id'], receipt_url: charge['receipt_url'] }],
      });
      expect(await findCharge(db.ds.manager, charge['id'] as string)).toEqual(expectedChargeRow(p.chargeSucceeded, invoiceId));
      expect(await findInvoicePayment(db.ds.manager, p.payment['id'] as string)).toEqual(expectedPaymentRow(p.paymentPaid, charge['id'] as string));
      // The event log files the payment's event under its invoice; a current charge names none.
      const filed = await db.ds.query(`SELECT id, stripe_invoice_id FROM stripe_events WHERE id = ANY($1) ORDER BY id`, [[p.paymentPaid['id'], p.chargeSucceeded['id']]]);
      expect(Object.fromEntries(filed.map((r: { id: string; stripe_invoice_id: string | null }) => [r.id, r.stripe_invoice_id]))).toEqual({
        [p.paymentPaid['id'] as string]: invoiceId,
        [p.chargeSucceeded['id'] as string]: null,
      });
    },
  );

  it('links payments and charges committed by two racing transactions, every time', async () => {
    const pairs = Array.from({ length: 40 }, (_, i) => paidInvoicePayment(uid('in'), 1_700_100_000 + i));
    for (const [i, p] of pairs.entries()) {
      const [a, b] = i % 2 === 0 ? [p.paymentPaid, p.chargeSucceeded] : [p.chargeSucceeded, p.paymentPaid];
      await Promise.all([apply(a), apply(b)]);
    }
    const unlinked = await db.ds.query(
      `SELECT ip.stripe_invoice_payment_id, ip.stripe_charge_id, ch.stripe_invoice_id
         FROM invoice_payments ip JOIN charges ch ON ch.stripe_payment_intent_id = ip.stripe_payment_intent_id
        WHERE ip.stripe_invoice_payment_id = ANY($1)
          AND (ip.stripe_charge_id IS DISTINCT FROM ch.stripe_charge_id OR ch.stripe_invoice_id IS DISTINCT FROM ip.stripe_invoice_id)`,
      [pairs.map((p) => p.payment['id'])],
    );
    expect(unlinked).toEqual([]);
    const linked = await db.ds.query(`SELECT count(*)::int AS n FROM charges WHERE stripe_charge_id = ANY($1) AND stripe_invoice_id IS NOT NULL`, [pairs.map((p) => p.charge['id'])]);
    expect(linked).toEqual([{ n: pairs.length }]);
  });

  it('links nothing from a canceled invoice payment', async () => {
    const paymentIntent = uid('pi');
    const invoiceId = uid('in');
    const canceled = invoicePaymentObject(invoiceId, { paymentIntent, status: 'canceled' });
    await apply(paymentEvent('invoice_payment.canceled', canceled, { created: 1_700_200_000 }));
    const charge = chargeObject({ paymentIntent, status: 'failed' });
    await apply(paymentEvent('charge.failed', charge, { created: 1_700_200_001 }));
    expect(await findCharge(db.ds.manager, charge['id'] as string)).toMatchObject({ status: 'failed', stripeInvoiceId: null });
    expect(await findInvoicePayment(db.ds.manager, canceled['id'] as string)).toMatchObject({ status: 'canceled', stripeChargeId: null });
  });
});

describe('refunds', () => {
  it('a partial then a full refund: refund rows, and amount_refunded_cents only rises even when the partial comes last', async () => {
    const paymentIntent = uid('pi');
    const chargeId = uid('ch');
    const t = 1_700_300_000;
    const succeeded = paymentEvent('charge.succeeded', chargeObject({ id: chargeId, paymentIntent, created: t }), { created: t });
    const partial = refundObject(chargeId, { amount: 300, paymentIntent, created: t + 10 });
    const rest = refundObject(chargeId, { amount: 700, paymentIntent, created: t + 20 });
    const partialRefunded = paymentEvent('charge.refunded', chargeObject({ id: chargeId, paymentIntent, created: t, amountRefunded: 300 }), { created: t + 10 });
    const fullRefunded = paymentEvent('charge.refunded', chargeObject({ id: chargeId, paymentIntent, created: t, amountRefunded: 1000 }), { created: t + 20 });

    for (const e of [succeeded, paymentEvent('refund.created', rest, { created: t + 20 }), fullRefunded, paymentEvent('refund.created', partial, { created: t + 10 }), partialRefunded]) await apply(e);

    expect(await findCharge(db.ds.manager, chargeId)).toEqual(expectedChargeRow(fullRefunded, null));
    expect(await findCharge(db.ds.manager, chargeId)).toMatchObject({ amountRefundedCents: 1000, refunded: true });
    const refunds = await refundsOfCharge(db.ds.manager, chargeId);
    expect(refunds.map((r) => [r.stripeRefundId, r.amountCents, r.status, r.stripePaymentIntentId])).toEqual([
      [partial['id'], 300, 'succeeded', paymentIntent],
      [rest['id'], 700, 'succeeded', paymentIntent],
    ]);
  });

  it('a refund that fails after it succeeded stays failed, whichever event comes last', async () => {
    const chargeId = uid('ch');
    const refund = refundObject(chargeId, { status: 'succeeded' });
    const failed = { ...refund, status: 'failed', failure_reason: 'expired_or_canceled_card' };
    const failedEvent = paymentEvent('refund.failed', failed, { created: 1_700_300_100 });
    await apply(failedEvent);
    await apply(paymentEvent('charge.refund.updated', refund, { created: 1_700_300_100 }));
    await apply(paymentEvent('refund.updated', refund, { created: 1_700_300_200 }));
    expect(await findRefund(db.ds.manager, refund['id'] as string)).toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card', lastEventId: failedEvent['id'] });
  });

  it("an older charge's listed refunds become refund rows in the same batch, with the charge event's meta", async () => {
    const chargeId = uid('ch');
    const invoiceId = uid('in');
    const listed = [refundObject(chargeId, { amount: 100, created: 1_700_300_300 }), refundObject(chargeId, { amount: 200, created: 1_700_300_301 })];
    const e = paymentEvent('charge.refunded', chargeObject({ id: chargeId, invoice: invoiceId, layout: 'old', amountRefunded: 300, refunds: listed }), { created: 1_700_300_302, apiVersion: API.listsRefunds, livemode: true });
    await apply({ ...e, data: { object: { ...objectOf(e), livemode: true } } });
    const refunds = await refundsOfCharge(db.ds.manager, chargeId);
    expect(refunds.map((r) => ({ id: r.stripeRefundId, amount: r.amountCents, event: r.lastEventId, at: r.lastEventCreatedAt, livemode: r.livemode }))).toEqual(
      listed.map((r) => ({ id: r['id'], amount: r['amount'], event: e['id'], at: e['created'], livemode: true })),
    );
    // A later refund.updated of one of them merges into the same row.
    await apply(paymentEvent('refund.updated', { ...listed[0]!, status: 'failed', failure_reason: 'unknown' }, { created: 1_700_300_400 }));
    expect(await findRefund(db.ds.manager, listed[0]!['id'] as string)).toMatchObject({ status: 'failed', stripeChargeId: chargeId });
  });
});

describe('which invoice a charge belongs to', () => {
  it("takes an older charge's own invoice, and files its event under that invoice", async () => {
    const invoiceId = uid('in');
    const e = paymentEvent('charge.succeeded', chargeObject({ invoice: invoiceId, layout: 'old' }), { created: 1_700_400_000, apiVersion: API.old });
    await apply(e);
    expect(await findCharge(db.ds.manager, objectOf(e)['id'] as string)).toMatchObject({ stripeInvoiceId: invoiceId });
    expect((await db.ds.query(`SELECT stripe_invoice_id FROM stripe_events WHERE id = $1`, [e['id']]))[0]).toEqual({ stripe_invoice_id: invoiceId });
  });

  it('keeps the invoice an older snapshot named when a current one (no invoice) comes later', async () => {
    const invoiceId = uid('in');
    const chargeId = uid('ch');
    await apply(paymentEvent('charge.succeeded', chargeObject({ id: chargeId, invoice: invoiceId, layout: 'old' }), { created: 1_700_400_100, apiVersion: API.old }));
    await apply(paymentEvent('charge.updated', chargeObject({ id: chargeId }), { created: 1_700_400_200, apiVersion: API.basil }));
    expect(await findCharge(db.ds.manager, chargeId)).toMatchObject({ stripeInvoiceId: invoiceId });
  });

  it('links a current charge (no invoice) once its invoice payment arrives, and a payment by bare charge too', async () => {
    const invoiceId = uid('in');
    const chargeId = uid('ch');
    await apply(paymentEvent('charge.succeeded', chargeObject({ id: chargeId }), { created: 1_700_400_300 }));
    expect(await findCharge(db.ds.manager, chargeId)).toMatchObject({ stripeInvoiceId: null });
    const payment = invoicePaymentObject(invoiceId, { payment: { type: 'charge', charge: chargeId } });
    await apply(paymentEvent('invoice_payment.paid', payment, { created: 1_700_400_301 }));
    expect(await findCharge(db.ds.manager, chargeId)).toMatchObject({ stripeInvoiceId: invoiceId });
    expect(await findInvoicePayment(db.ds.manager, payment['id'] as string)).toMatchObject({ stripeChargeId: chargeId, stripePaymentIntentId: null });
  });

  it('takes the smallest invoice id when one payment intent pays two invoices', async () => {
    const paymentIntent = uid('pi');
    const [a, b] = [`in_a${uid('x')}`, `in_b${uid('x')}`];
    await apply(paymentEvent('invoice_payment.paid', invoicePaymentObject(b, { paymentIntent }), { created: 1_700_400_350 }));
    await apply(paymentEvent('invoice_payment.paid', invoicePaymentObject(a, { paymentIntent }), { created: 1_700_400_351 }));
    const charge = chargeObject({ paymentIntent });
    await apply(paymentEvent('charge.succeeded', charge, { created: 1_700_400_352 }));
    expect(await findCharge(db.ds.manager, charge['id'] as string)).toMatchObject({ stripeInvoiceId: a });
  });

  it('stores a charge of no invoice (a one-off Checkout payment) with no invoice, filed under none', async () => {
    const e = paymentEvent('charge.succeeded', chargeObject({ paymentIntent: uid('pi') }), { created: 1_700_400_400 });
    await apply(e);
    expect(await findCharge(db.ds.manager, objectOf(e)['id'] as string)).toEqual(expectedChargeRow(e, null));
    expect((await db.ds.query(`SELECT stripe_invoice_id FROM stripe_events WHERE id = $1`, [e['id']]))[0]).toEqual({ stripe_invoice_id: null });
  });

  it('stores an invoice payment of an invoice not yet known; the invoice arriving later joins it', async () => {
    const invoiceId = uid('in');
    const p = paidInvoicePayment(invoiceId, 1_700_400_500);
    await apply(p.chargeSucceeded);
    await apply(p.paymentPaid);
    expect(await findInvoicePayment(db.ds.manager, p.payment['id'] as string)).toEqual(expectedPaymentRow(p.paymentPaid, p.charge['id'] as string));
    const joined = () =>
      db.ds.query(
        `SELECT i.stripe_invoice_id, i.status, ip.amount_cents AS paid, ch.receipt_url
           FROM invoices i
           JOIN invoice_payments ip ON ip.stripe_invoice_id = i.stripe_invoice_id
           JOIN charges ch ON ch.stripe_invoice_id = i.stripe_invoice_id
          WHERE i.stripe_invoice_id = $1`,
        [invoiceId],
      );
    expect(await joined()).toEqual([]);
    await apply(paidLifecycle(invoiceId, 1_700_400_400)[4]!);
    expect(await joined()).toEqual([{ stripe_invoice_id: invoiceId, status: 'paid', paid: '1000', receipt_url: p.charge['receipt_url'] }]);
  });
});

describe('events that cannot be read', () => {
  it.each<[string, () => Json, RegExp]>([
    [
      'a charge event without an id',
      () => {
        const charge = chargeObject();
        delete charge['id'];
        return paymentEvent('charge.succeeded', charge, { created: 1_700_500_000 });
      },
      /invalid charge in charge\.succeeded: id: missing/,
    ],
    [
      'an invoice_payment without its invoice',
      () => {
        const payment = invoicePaymentObject('in_x');
        delete payment['invoice'];
        return paymentEvent('invoice_payment.paid', payment, { created: 1_700_500_000 });
      },
      /invalid invoice payment in invoice_payment\.paid: invoice: missing/,
    ],
    [
      'a refund without an amount',
      () => {
        const refund = refundObject(uid('ch'));
        delete refund['amount'];
        return paymentEvent('refund.created', refund, { created: 1_700_500_000 });
      },
      /invalid refund in refund\.created: amount: missing/,
    ],
  ])('stores %s in the event log with its reason, and writes no row', async (_name, build, reason) => {
    const e = build();
    await expect(apply(e)).rejects.toThrow(MalformedEventError);
    const failed = await recentEvents(db.ds, { failed: true, limit: 100 });
    expect(failed.find((f) => f.id === e['id'])).toMatchObject({ type: e['type'], invoiceId: null, processedAt: null, lastError: expect.stringMatching(reason) });
    const counts = await db.ds.query(`SELECT (SELECT count(*) FROM charges WHERE last_event_id = $1)::int + (SELECT count(*) FROM invoice_payments WHERE last_event_id = $1)::int + (SELECT count(*) FROM refunds WHERE last_event_id = $1)::int AS n`, [e['id']]);
    expect(counts).toEqual([{ n: 0 }]);
  });
});

describe('thin events and unreadable snapshots, fetched from Stripe', () => {
  let api: StripeApi;
  beforeAll(async () => {
    api = await startStripeApi();
  });
  afterAll(async () => {
    await api?.stop();
  });
  const fetchObject = () => objectFetcher(createStripeClient({ secretKey: 'sk_test_payments', apiBase: api.url }, 'test'));
  const run = (e: Json) => applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => NOW, fetchObject: fetchObject() });
  const thin = (type: string, object: string, id: string, path: string): Json => ({
    id: uid('evt_test'),
    object: 'v2.core.event',
    type,
    created: new Date(1_799_999_000_000).toISOString(),
    livemode: false,
    reason: null,
    related_object: { id, type: object, url: `${path}/${id}` },
  });

  it('fetches the invoice payment, the charge and the refund a thin event refers to, and links them', async () => {
    const invoiceId = uid('in');
    const paymentIntent = uid('pi');
    const payment = invoicePaymentObject(invoiceId, { paymentIntent });
    const charge = chargeObject({ paymentIntent });
    const refund = refundObject(charge['id'] as string, { paymentIntent, amount: 250 });
    api.invoicePayments.put(payment);
    api.charges.put(charge);
    api.refunds.putAs('acct_1ConnectedTest', refund);
    await run(thin('v1.charge.succeeded', 'charge', charge['id'] as string, '/v1/charges'));
    await run(thin('v1.invoice_payment.paid', 'invoice_payment', payment['id'] as string, '/v1/invoice_payments'));
    await run({ ...thin('v1.refund.created', 'refund', refund['id'] as string, '/v1/refunds'), context: 'acct_1ConnectedTest' });
    expect(api.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/refunds/${refund['id']}`, account: 'acct_1ConnectedTest' });
    expect(await findCharge(db.ds.manager, charge['id'] as string)).toMatchObject({ stripeInvoiceId: invoiceId, lastEventCreatedAt: NOW });
    expect(await findInvoicePayment(db.ds.manager, payment['id'] as string)).toMatchObject({ stripeChargeId: charge['id'], status: 'paid' });
    expect(await findRefund(db.ds.manager, refund['id'] as string)).toMatchObject({ amountCents: 250, stripeChargeId: charge['id'] });
  });

  it('says the object does not exist at Stripe when Stripe has none', async () => {
    await expect(run(thin('v1.charge.updated', 'charge', uid('ch'), '/v1/charges'))).rejects.toThrow(/charge .* does not exist at Stripe/);
    await expect(run(thin('v1.charge.refund.updated', 'refund', uid('re'), '/v1/refunds'))).rejects.toThrow(/refund .* does not exist at Stripe/);
  });

  it("replaces a charge snapshot it cannot read by Stripe's current charge", async () => {
    const charge = chargeObject({ paymentIntent: uid('pi') });
    api.charges.put(charge);
    const unreadable = { ...charge, amount: 'a thousand' };
    await run(paymentEvent('charge.succeeded', unreadable, { created: 1_700_600_000 }));
    expect(await findCharge(db.ds.manager, charge['id'] as string)).toMatchObject({ amountCents: 1000, receiptUrl: charge['receipt_url'] });
  });
});
