import { MalformedEventError } from '../../src/errors';
import { chargeKind } from '../../src/stripe-objects/charge';
import { invoicePaymentKind } from '../../src/stripe-objects/invoice-payment';
import { refundKind } from '../../src/stripe-objects/refund';
import resources from '../support/stripe-api/resources.json';
import { API, chargeObject, invoicePaymentObject, paymentEvent, refundObject } from '../support/payment-events';

const T = 1_700_000_000;
const meta = (e: Record<string, unknown>) => ({ eventId: e['id'], eventType: e['type'], eventCreated: e['created'], livemode: e['livemode'], apiVersion: e['api_version'], account: e['account'] ?? null });

describe('reading an invoice payment', () => {
  it("reads Stripe's fixture once its placeholders are values Stripe sends: unpaid, no payment intent yet", () => {
    const object = { ...resources.invoice_payment, currency: 'usd', status: 'open' };
    const e = paymentEvent('invoice_payment.paid', object, { created: T, livemode: true });
    expect(invoicePaymentKind.read(e)).toEqual({
      ...meta(e),
      payment: {
        stripeInvoicePaymentId: 'obj_123',
        stripeInvoiceId: 'invoice',
        stripePaymentIntentId: null,
        stripeChargeId: null,
        status: 'open',
        amountCents: 0,
        amountRequestedCents: 1112626247,
        currency: 'usd',
        isDefault: true,
        paidAt: null,
        canceledAt: null,
        createdAt: 1028554472,
        livemode: true,
      },
    });
  });

  it('reads a paid payment by payment intent, the invoice expanded', () => {
    const object = { ...invoicePaymentObject('in_1', { id: 'inpay_1', paymentIntent: 'pi_1', created: T }), invoice: { id: 'in_1', object: 'invoice', status: 'paid' } };
    const s = invoicePaymentKind.read(paymentEvent('invoice_payment.paid', object, { created: T + 1 }));
    expect(s.payment).toMatchObject({ stripeInvoiceId: 'in_1', stripePaymentIntentId: 'pi_1', stripeChargeId: null, status: 'paid', amountCents: 1000, paidAt: T + 1 });
    expect(invoicePaymentKind.key(s)).toBe('inpay_1');
    expect(invoicePaymentKind.invoiceOf(s)).toBe('in_1');
    // Its invoice too, whose wallet linking its charge can move.
    expect(invoicePaymentKind.sharedLocks!(s)).toEqual(['payment:pi_1', 'invoice:in_1']);
  });

  it('reads a payment by a bare charge (expanded), and one of a type that names neither', () => {
    const byCharge = invoicePaymentObject('in_1', { payment: { type: 'charge', charge: { id: 'ch_1', object: 'charge' } } });
    const s = invoicePaymentKind.read(paymentEvent('invoice_payment.paid', byCharge, { created: T }));
    expect(s.payment).toMatchObject({ stripePaymentIntentId: null, stripeChargeId: 'ch_1' });
    expect(invoicePaymentKind.sharedLocks!(s)).toEqual(['payment:ch_1', 'invoice:in_1']);

    const outOfBand = invoicePaymentObject('in_1', { payment: { type: 'out_of_band_payment' } });
    const o = invoicePaymentKind.read(paymentEvent('invoice_payment.paid', outOfBand, { created: T }));
    expect(o.payment).toMatchObject({ stripePaymentIntentId: null, stripeChargeId: null });
    expect(invoicePaymentKind.sharedLocks!(o)).toEqual(['invoice:in_1']);
  });

  it.each<[string, (o: Record<string, unknown>) => void, RegExp]>([
    ['no invoice', (o) => delete o['invoice'], /invalid invoice payment in invoice_payment\.paid: invoice: missing/],
    ['a null invoice', (o) => (o['invoice'] = null), /invoice:/],
    ['no id', (o) => delete o['id'], /id: missing/],
    ['another object', (o) => (o['object'] = 'invoice'), /object:/],
    ["the fixture's placeholder currency", (o) => (o['currency'] = 'currency'), /currency: must be a three-letter ISO currency code/],
    ['a fractional amount', (o) => (o['amount_requested'] = 10.5), /amount_requested:/],
    ['no created', (o) => delete o['created'], /created: missing/],
  ])('refuses an invoice payment with %s, saying what is wrong', (_name, spoil, message) => {
    const object = invoicePaymentObject('in_1');
    spoil(object);
    const read = () => invoicePaymentKind.read(paymentEvent('invoice_payment.paid', object, { created: T }));
    expect(read).toThrow(MalformedEventError);
    expect(read).toThrow(message);
  });
});

describe('reading a charge', () => {
  it('reads a charge of today (basil and later): no invoice, no refunds', () => {
    const e = paymentEvent('charge.succeeded', chargeObject({ id: 'ch_1', paymentIntent: 'pi_1', created: T }), { created: T + 1, apiVersion: API.basil });
    const s = chargeKind.read(e);
    expect(s).toEqual({
      ...meta(e),
      charge: {
        stripeChargeId: 'ch_1',
        stripePaymentIntentId: 'pi_1',
        stripeInvoiceId: null,
        stripeCustomerId: 'cus_test',
        status: 'succeeded',
        amountCents: 1000,
        amountCapturedCents: 1000,
        amountRefundedCents: 0,
        refunded: false,
        currency: 'usd',
        receiptUrl: 'https://pay.stripe.com/receipts/payment/ch_1',
        paymentMethodType: 'card',
        failureCode: null,
        createdAt: T,
        livemode: false,
      },
      refunds: [],
    });
    expect(chargeKind.invoiceOf(s)).toBeNull();
    expect(chargeKind.sharedLocks!(s)).toEqual(['payment:pi_1', 'payment:ch_1']);
    expect(chargeKind.nested!(s)).toEqual([]);
  });

  it("reads an older charge's invoice and listed refunds, each refund with the charge event's meta", () => {
    const refunds = [refundObject('ch_1', { id: 're_1', amount: 300, created: T + 5 }), { ...refundObject('ch_1', { id: 're_2', amount: 200, created: T + 6 }), charge: undefined }];
    const object = chargeObject({ id: 'ch_1', paymentIntent: 'pi_1', invoice: 'in_1', layout: 'old', amountRefunded: 500, refunds, created: T });
    const e = paymentEvent('charge.refunded', object, { created: T + 7, apiVersion: API.old, livemode: true });
    const s = chargeKind.read(e);
    expect(s.charge).toMatchObject({ stripeInvoiceId: 'in_1', amountRefundedCents: 500, livemode: false });
    expect(chargeKind.invoiceOf(s)).toBe('in_1');
    expect(chargeKind.nested!(s)).toEqual([
      { object: 'refund', snapshot: { ...meta(e), refund: { stripeRefundId: 're_1', stripeChargeId: 'ch_1', stripePaymentIntentId: 'pi_1', amountCents: 300, currency: 'usd', status: 'succeeded', reason: null, failureReason: null, createdAt: T + 5, livemode: true } } },
      // A listed refund that does not repeat its charge belongs to the charge that lists it.
      { object: 'refund', snapshot: { ...meta(e), refund: { stripeRefundId: 're_2', stripeChargeId: 'ch_1', stripePaymentIntentId: 'pi_1', amountCents: 200, currency: 'usd', status: 'succeeded', reason: null, failureReason: null, createdAt: T + 6, livemode: true } } },
    ]);
  });

  it('reads the refunds of the oldest versions, an array', () => {
    const object = { ...chargeObject({ id: 'ch_1', layout: 'old' }), refunds: [refundObject('ch_1', { id: 're_1' })] };
    expect(chargeKind.read(paymentEvent('charge.refunded', object, { created: T })).refunds.map((r) => r.refund.stripeRefundId)).toEqual(['re_1']);
  });

  it('reads expanded references and the oldest layout, which has neither status nor amount_captured nor payment_method_details', () => {
    const object: Record<string, unknown> = {
      ...chargeObject({ id: 'ch_1', layout: 'old' }),
      payment_intent: { id: 'pi_1', object: 'payment_intent' },
      customer: { id: 'cus_1', object: 'customer' },
      invoice: { id: 'in_1', object: 'invoice' },
      source: { id: 'card_1', object: 'card' },
    };
    for (const k of ['status', 'amount_captured', 'payment_method_details', 'receipt_url']) delete object[k];
    const s = chargeKind.read(paymentEvent('charge.succeeded', object, { created: T, apiVersion: '2014-03-28' }));
    expect(s.charge).toMatchObject({ stripePaymentIntentId: 'pi_1', stripeCustomerId: 'cus_1', stripeInvoiceId: 'in_1', status: 'succeeded', amountCapturedCents: 1000, paymentMethodType: 'card', receiptUrl: null });
  });

  it('reads a failed charge, and a charge without a payment intent locks its own payment', () => {
    const s = chargeKind.read(paymentEvent('charge.failed', chargeObject({ id: 'ch_f', status: 'failed' }), { created: T }));
    expect(s.charge).toMatchObject({ status: 'failed', failureCode: 'card_declined', amountCapturedCents: 0, receiptUrl: null });
    expect(chargeKind.sharedLocks!(s)).toEqual(['payment:ch_f']);
  });

  it.each<[string, (o: Record<string, unknown>) => void, RegExp]>([
    ['no id', (o) => delete o['id'], /invalid charge in charge\.succeeded: id: missing/],
    ['no amount', (o) => delete o['amount'], /amount: missing/],
    ['a dispute instead', (o) => (o['object'] = 'dispute'), /object:/],
    ['an unreadable listed refund', (o) => (o['refunds'] = { object: 'list', data: [{ id: 're_1', currency: 'usd', created: T }] }), /invalid refund in charge\.succeeded: amount: missing/],
    ['a listed refund that is no object', (o) => (o['refunds'] = ['re_1']), /refunds\[0\]/],
    ['a status that is no Stripe status', (o) => (o['status'] = 'Succeeded!'), /status:/],
  ])('refuses a charge with %s, saying what is wrong', (_name, spoil, message) => {
    const object = chargeObject();
    spoil(object);
    const read = () => chargeKind.read(paymentEvent('charge.succeeded', object, { created: T }));
    expect(read).toThrow(MalformedEventError);
    expect(read).toThrow(message);
  });
});

describe('reading a refund', () => {
  it("reads Stripe's fixture, taking livemode from the event (a refund has none)", () => {
    const e = paymentEvent('refund.created', resources.refund, { created: T, livemode: true });
    const s = refundKind.read(e);
    expect(s).toEqual({
      ...meta(e),
      refund: {
        stripeRefundId: 're_1Pgc72B7WZ01zgkWqPvrRrPE',
        stripeChargeId: 'ch_1PgafuB7WZ01zgkWXYmPNZs8',
        stripePaymentIntentId: null,
        amountCents: 100,
        currency: 'usd',
        status: 'succeeded',
        reason: null,
        failureReason: null,
        createdAt: 1234567890,
        livemode: true,
      },
    });
    expect(refundKind.invoiceOf(s)).toBeNull();
    expect(refundKind.sharedLocks!(s)).toEqual(['payment:ch_1PgafuB7WZ01zgkWXYmPNZs8']);
  });

  it('reads charge.refund.updated, a failed refund, and expanded references', () => {
    const object = { ...refundObject('ch_1', { status: 'failed', failureReason: 'expired_or_canceled_card', paymentIntent: 'pi_1' }), charge: { id: 'ch_1', object: 'charge' } };
    const s = refundKind.read(paymentEvent('charge.refund.updated', object, { created: T }));
    expect(s.refund).toMatchObject({ stripeChargeId: 'ch_1', stripePaymentIntentId: 'pi_1', status: 'failed', failureReason: 'expired_or_canceled_card' });
    expect(refundKind.sharedLocks!(s)).toEqual(['payment:pi_1', 'payment:ch_1']);
  });

  it('keeps a null status as null', () => {
    expect(refundKind.read(paymentEvent('refund.updated', { ...refundObject('ch_1'), status: null }, { created: T })).refund.status).toBeNull();
  });

  it.each<[string, (o: Record<string, unknown>) => void, RegExp]>([
    ['no id', (o) => delete o['id'], /invalid refund in refund\.created: id: missing/],
    ['no amount', (o) => delete o['amount'], /amount: missing/],
    ['no currency', (o) => delete o['currency'], /currency: missing/],
    ['another object', (o) => (o['object'] = 'charge'), /object:/],
  ])('refuses a refund with %s, saying what is wrong', (_name, spoil, message) => {
    const object = refundObject('ch_1');
    spoil(object);
    const read = () => refundKind.read(paymentEvent('refund.created', object, { created: T }));
    expect(read).toThrow(MalformedEventError);
    expect(read).toThrow(message);
  });
});

describe('what the event log files these events under', () => {
  it('names no invoice from an unreadable event of any of them: their ids are not invoice ids', () => {
    for (const kind of [invoicePaymentKind, chargeKind, refundKind]) expect(kind.invoiceOfObjectId('in_1')).toBeNull();
  });

  it('has no deletion stub for any of them', () => {
    for (const kind of [invoicePaymentKind, chargeKind, refundKind]) expect(kind.goneObject(`${kind.object}.deleted`, 'x_1')).toBeNull();
  });
});
