import fc from 'fast-check';
import type { ChargeSnapshot } from '../../src/stripe-objects/charge-schema';
import { chargeJoin, chargeKind } from '../../src/stripe-objects/charge';
import { API, chargeObject, paymentEvent } from '../support/payment-events';
import { checkJoinLaws, fold, gap, hex } from './join-laws';

const AMOUNT = 1000;

interface Plan {
  start: number;
  pending: boolean;
  outcome: 'succeeded' | 'failed';
  /** What each charge.refunded adds to amount_refunded. */
  refunds: number[];
  updates: number;
  gaps: number[];
  /** Per event: an endpoint on an API version before 2025-03-31 also receives the charge's invoice. */
  oldLayout: boolean[];
  ids: string[];
}

const plan: fc.Arbitrary<Plan> = fc.record({
  start: fc.integer({ min: 1_600_000_000, max: 1_800_000_000 }),
  pending: fc.boolean(),
  outcome: fc.constantFrom('succeeded' as const, 'failed' as const),
  refunds: fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 3 }),
  updates: fc.integer({ min: 0, max: 2 }),
  gaps: fc.array(gap, { minLength: 10, maxLength: 10 }),
  oldLayout: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
  ids: fc.uniqueArray(hex(8), { minLength: 10, maxLength: 10 }),
});

/** A charge's life as Stripe tells it: maybe pending, then succeeded or failed, then refunds (partial, then more) and updates. */
function snapshotsOf(p: Plan): ChargeSnapshot[] {
  const steps: Array<{ type: string; status: string; refunded: number }> = [];
  if (p.pending) steps.push({ type: 'charge.pending', status: 'pending', refunded: 0 });
  steps.push({ type: `charge.${p.outcome}`, status: p.outcome, refunded: 0 });
  let refunded = 0;
  if (p.outcome === 'succeeded') {
    for (const r of p.refunds) {
      refunded = Math.min(AMOUNT, refunded + r);
      steps.push({ type: 'charge.refunded', status: 'succeeded', refunded });
    }
  }
  for (let i = 0; i < p.updates; i++) steps.push({ type: 'charge.updated', status: p.outcome, refunded });
  let t = p.start;
  return steps.map((s, i) => {
    t += p.gaps[i]!;
    const old = p.oldLayout[i]!;
    const object = chargeObject({ id: 'ch_prop', paymentIntent: 'pi_prop', invoice: 'in_prop', amount: AMOUNT, created: p.start, status: s.status, amountRefunded: s.refunded, layout: old ? 'old' : 'current', receiptUrl: 'https://pay.stripe.com/receipts/payment/ch_prop' });
    return chargeKind.read(paymentEvent(s.type, object, { id: `evt_${p.ids[i]}`, created: t, apiVersion: old ? API.old : API.current }));
  });
}

const lifecycle = plan.map(snapshotsOf);
const RANK = (status: string) => (status === 'pending' ? 0 : 1);

describe('the charge reducer over generated lifecycles of one charge', () => {
  checkJoinLaws({ reduce: chargeKind.reduce, lifecycle, rank: (r) => RANK(r.status), terminal: ['succeeded', 'failed'], status: (r) => r.status });

  it('ends with the outcome, every refund counted, the receipt, and the invoice any older layout named', () => {
    fc.assert(
      fc.property(plan, (p) => {
        const snapshots = snapshotsOf(p);
        const row = fold(chargeKind.reduce, snapshots).at(-1)!;
        const refunded = p.outcome === 'succeeded' ? Math.min(AMOUNT, p.refunds.reduce((a, b) => a + b, 0)) : 0;
        expect(row).toMatchObject({
          status: p.outcome,
          amountRefundedCents: refunded,
          refunded: refunded >= AMOUNT,
          receiptUrl: p.outcome === 'succeeded' ? 'https://pay.stripe.com/receipts/payment/ch_prop' : null,
          stripeInvoiceId: p.oldLayout.slice(0, snapshots.length).some(Boolean) ? 'in_prop' : null,
          createdAt: p.start,
        });
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the invoice a link set, whatever later snapshots without one say', () => {
    const [first] = fold(chargeKind.reduce, snapshotsOf({ start: 1_700_000_000, pending: false, outcome: 'succeeded', refunds: [100], updates: 1, gaps: Array(10).fill(1), oldLayout: Array(10).fill(false), ids: Array.from({ length: 10 }, (_, i) => `id${i}`) }));
    const linked = { ...first!, stripeInvoiceId: 'in_linked' };
    for (const s of snapshotsOf({ start: 1_700_000_000, pending: true, outcome: 'succeeded', refunds: [300], updates: 2, gaps: Array(10).fill(1), oldLayout: Array(10).fill(false), ids: Array.from({ length: 10 }, (_, i) => `other${i}`) })) {
      expect(chargeKind.reduce(linked, s, { now: 0 }).stripeInvoiceId).toBe('in_linked');
    }
  });

  it('picks one invoice whatever the order, should two snapshots name different ones', () => {
    const read = (invoice: string, id: string) => chargeKind.read(paymentEvent('charge.succeeded', chargeObject({ id: 'ch_x', invoice, layout: 'old' }), { id, created: 1_700_000_000 }));
    const [a, b] = [read('in_b', 'evt_1'), read('in_a', 'evt_2')];
    expect(chargeJoin.rowOf(a).stripeInvoiceId).toBe('in_b');
    expect(fold(chargeKind.reduce, [a, b]).at(-1)).toEqual(fold(chargeKind.reduce, [b, a]).at(-1));
    expect(fold(chargeKind.reduce, [a, b]).at(-1)!.stripeInvoiceId).toBe('in_a');
  });
});
