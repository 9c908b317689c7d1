import fc from 'fast-check';
import type { InvoicePaymentSnapshot } from '../../src/stripe-objects/invoice-payment-schema';
import { invoicePaymentKind } from '../../src/stripe-objects/invoice-payment';
import { invoicePaymentObject, paymentEvent } from '../support/payment-events';
import { checkJoinLaws, fold, gap, hex } from './join-laws';

interface Plan {
  start: number;
  /** open snapshots before the outcome (fetched for v1.invoice_payment.open, or re-read). */
  opens: number;
  outcome: 'paid' | 'canceled' | null;
  /** Per snapshot: whether it names the payment intent (a re-read may not have it expanded). */
  namesIntent: boolean[];
  defaults: boolean[];
  gaps: number[];
  ids: string[];
}

const plan: fc.Arbitrary<Plan> = fc.record({
  start: fc.integer({ min: 1_600_000_000, max: 1_800_000_000 }),
  opens: fc.integer({ min: 0, max: 3 }),
  outcome: fc.constantFrom('paid' as const, 'canceled' as const, null),
  namesIntent: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
  defaults: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
  gaps: fc.array(gap, { minLength: 6, maxLength: 6 }),
  ids: fc.uniqueArray(hex(8), { minLength: 6, maxLength: 6 }),
});

function snapshotsOf(p: Plan): InvoicePaymentSnapshot[] {
  const statuses: string[] = [...Array<string>(p.opens).fill('open'), ...(p.outcome ? [p.outcome] : [])];
  if (statuses.length === 0) statuses.push('open');
  let t = p.start;
  return statuses.map((status, i) => {
    t += p.gaps[i]!;
    const payment = p.namesIntent[i] ? { type: 'payment_intent', payment_intent: 'pi_prop' } : { type: 'payment_intent' };
    const object = { ...invoicePaymentObject('in_prop', { id: 'inpay_prop', created: p.start, status, payment }), is_default: p.defaults[i] };
    return invoicePaymentKind.read(paymentEvent(`invoice_payment.${status}`, object, { id: `evt_${p.ids[i]}`, created: t }));
  });
}

const RANK = (status: string) => (status === 'open' ? 0 : 1);

describe('the invoice payment reducer over generated lifecycles of one invoice payment', () => {
  checkJoinLaws({ reduce: invoicePaymentKind.reduce, lifecycle: plan.map(snapshotsOf), rank: (r) => RANK(r.status), terminal: ['paid', 'canceled'], status: (r) => r.status });

  it('ends paid or canceled when it was, with the amount paid, and keeps the payment intent once any snapshot named it', () => {
    fc.assert(
      fc.property(plan, (p) => {
        const snapshots = snapshotsOf(p);
        const row = fold(invoicePaymentKind.reduce, snapshots).at(-1)!;
        expect(row).toMatchObject({
          stripeInvoiceId: 'in_prop',
          status: p.outcome ?? 'open',
          amountCents: p.outcome === 'paid' ? 1000 : 0,
          paidAt: p.outcome === 'paid' ? p.start + 1 : null,
          canceledAt: p.outcome === 'canceled' ? p.start + 1 : null,
          stripePaymentIntentId: p.namesIntent.slice(0, snapshots.length).some(Boolean) ? 'pi_prop' : null,
        });
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the charge a link set when a later snapshot names none', () => {
    const [open, paid] = snapshotsOf({ start: 1_700_000_000, opens: 1, outcome: 'paid', namesIntent: Array(6).fill(true), defaults: Array(6).fill(true), gaps: Array(6).fill(1), ids: ['a', 'b', 'c', 'd', 'e', 'f'] });
    const linked = { ...invoicePaymentKind.reduce(null, open!, { now: 0 }), stripeChargeId: 'ch_linked' };
    expect(invoicePaymentKind.reduce(linked, paid!, { now: 0 })).toMatchObject({ status: 'paid', stripeChargeId: 'ch_linked' });
  });
});
