import { chargeKind } from '../../src/stripe-objects/charge';
import { invoicePaymentKind } from '../../src/stripe-objects/invoice-payment';
import { refundKind } from '../../src/stripe-objects/refund';
import { chargeObject, invoicePaymentObject, paymentEvent, refundObject } from '../support/payment-events';

/**
 * Objects of one payment name what their layout carries: a refund of an older layout only its
 * charge, an invoice payment only its payment intent (or only its charge), a charge both. Whatever
 * each names, the charge must share a lock with each of the others, or their effects (the link,
 * the refund emails) could run side by side and miss each other.
 */
const locksOf = (kind: { read(e: unknown): unknown; sharedLocks?(s: never): readonly string[] }, event: unknown) => kind.sharedLocks!(kind.read(event) as never);
const shareOne = (a: readonly string[], b: readonly string[]) => a.some((name) => b.includes(name));

describe('the locks objects of one payment share', () => {
  const charge = chargeObject({ id: 'ch_lock1', paymentIntent: 'pi_lock1' });
  const chargeLocks = locksOf(chargeKind, paymentEvent('charge.succeeded', charge, { created: 1_700_000_000 }));

  it('a charge takes one for its payment intent and one for itself', () => {
    expect([...chargeLocks].sort()).toEqual(['payment:ch_lock1', 'payment:pi_lock1']);
  });

  it('a refund that names only its charge shares one with the charge', () => {
    const refund = refundObject('ch_lock1', { id: 're_lock1', paymentIntent: null });
    const locks = locksOf(refundKind, paymentEvent('refund.created', refund, { created: 1_700_000_001 }));
    expect(locks).toEqual(['payment:ch_lock1']);
    expect(shareOne(locks, chargeLocks)).toBe(true);
  });

  it('an invoice payment paid by the payment intent, or by the charge itself, shares one with the charge', () => {
    const byIntent = locksOf(invoicePaymentKind, paymentEvent('invoice_payment.paid', invoicePaymentObject('in_lock1', { paymentIntent: 'pi_lock1' }), { created: 1_700_000_002 }));
    const byCharge = locksOf(invoicePaymentKind, paymentEvent('invoice_payment.paid', invoicePaymentObject('in_lock1', { payment: { type: 'charge', charge: 'ch_lock1' } }), { created: 1_700_000_002 }));
    expect(shareOne(byIntent, chargeLocks)).toBe(true);
    expect(shareOne(byCharge, chargeLocks)).toBe(true);
  });
});
