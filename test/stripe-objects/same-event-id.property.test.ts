import fc from 'fast-check';
import { chargeJoin } from '../../src/stripe-objects/charge';
import type { ChargeRow } from '../../src/stripe-objects/charge-schema';
import { invoicePaymentJoin } from '../../src/stripe-objects/invoice-payment';
import type { InvoicePaymentRow } from '../../src/stripe-objects/invoice-payment-schema';
import { refundJoin } from '../../src/stripe-objects/refund';
import type { RefundRow } from '../../src/stripe-objects/refund-schema';
import { joinRows, type LastEvent, type RowJoin } from '../../src/stripe-objects/row-join';

/**
 * One event read twice may differ in content (a thin event's object fetched again on a retry, an
 * API read named like an event). Rows that share their event id must still join the same way
 * whatever the order, also when a field that `merge` combines differs between them: joining the
 * result with either row again changes nothing.
 */
function laws<R extends LastEvent>(name: string, join: RowJoin<unknown, R>, variant: fc.Arbitrary<R>) {
  it(`${name}: rows of one event id join the same in any order, and idempotently`, () => {
    fc.assert(
      fc.property(fc.array(variant, { minLength: 2, maxLength: 4 }), (rows) => {
        const fold = (list: R[]) => list.reduce((acc, r) => joinRows(join, acc, r));
        const forward = fold(rows);
        expect(fold([...rows].reverse())).toEqual(forward);
        for (const r of rows) expect(joinRows(join, forward, r)).toEqual(forward);
      }),
      { numRuns: 300 },
    );
  });
}

const event = { lastEventId: 'evt_same', lastEventCreatedAt: 1_700_000_010 };
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });

describe('two different reads under one event id', () => {
  laws<ChargeRow>(
    'charge',
    chargeJoin as RowJoin<unknown, ChargeRow>,
    fc.record({
      stripeChargeId: fc.constant('ch_1'),
      stripePaymentIntentId: maybe(fc.constantFrom('pi_a', 'pi_b')),
      stripeInvoiceId: maybe(fc.constantFrom('in_a', 'in_b')),
      stripeCustomerId: maybe(fc.constantFrom('cus_a', 'cus_b')),
      status: fc.constantFrom('succeeded', 'pending', 'failed'),
      amountCents: fc.constant(500),
      amountCapturedCents: fc.constantFrom(0, 500),
      amountRefundedCents: fc.constantFrom(0, 50, 100),
      refunded: fc.boolean(),
      currency: fc.constant('usd'),
      receiptUrl: maybe(fc.constantFrom('https://pay.stripe.com/r/a', 'https://pay.stripe.com/r/b')),
      paymentMethodType: maybe(fc.constantFrom('card', 'us_bank_account')),
      failureCode: maybe(fc.constantFrom('x', 'y')),
      createdAt: fc.constant(1_700_000_000),
      livemode: fc.constant(false),
      ...Object.fromEntries(Object.entries(event).map(([k, v]) => [k, fc.constant(v)])),
    }) as unknown as fc.Arbitrary<ChargeRow>,
  );
  laws<InvoicePaymentRow>(
    'invoice payment',
    invoicePaymentJoin as RowJoin<unknown, InvoicePaymentRow>,
    fc.record({
      stripeInvoicePaymentId: fc.constant('inpay_1'),
      stripeInvoiceId: fc.constantFrom('in_a', 'in_b'),
      stripePaymentIntentId: maybe(fc.constantFrom('pi_a', 'pi_b')),
      stripeChargeId: maybe(fc.constantFrom('ch_a', 'ch_b')),
      status: fc.constantFrom('open', 'paid', 'canceled'),
      amountCents: fc.constantFrom(0, 500),
      amountRequestedCents: fc.constantFrom(500, 600),
      currency: fc.constant('usd'),
      isDefault: fc.boolean(),
      paidAt: maybe(fc.constantFrom(1_700_000_001, 1_700_000_002)),
      canceledAt: maybe(fc.constantFrom(1_700_000_001, 1_700_000_002)),
      createdAt: fc.constant(1_700_000_000),
      livemode: fc.constant(false),
      ...Object.fromEntries(Object.entries(event).map(([k, v]) => [k, fc.constant(v)])),
    }) as unknown as fc.Arbitrary<InvoicePaymentRow>,
  );
  laws<RefundRow>(
    'refund',
    refundJoin as RowJoin<unknown, RefundRow>,
    fc.record({
      stripeRefundId: fc.constant('re_1'),
      stripeChargeId: maybe(fc.constantFrom('ch_a', 'ch_b')),
      stripePaymentIntentId: maybe(fc.constantFrom('pi_a', 'pi_b')),
      amountCents: fc.constantFrom(100, 200),
      currency: fc.constant('usd'),
      status: maybe(fc.constantFrom('pending', 'succeeded', 'failed')),
      reason: maybe(fc.constantFrom('requested_by_customer', 'duplicate')),
      failureReason: maybe(fc.constantFrom('lost_or_stolen_card', 'unknown')),
      createdAt: fc.constant(1_700_000_000),
      livemode: fc.constant(false),
      ...Object.fromEntries(Object.entries(event).map(([k, v]) => [k, fc.constant(v)])),
    }) as unknown as fc.Arbitrary<RefundRow>,
  );
});
