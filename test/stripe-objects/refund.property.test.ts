import fc from 'fast-check';
import type { RefundSnapshot } from '../../src/stripe-objects/refund-schema';
import { chargeKind } from '../../src/stripe-objects/charge';
import { refundKind } from '../../src/stripe-objects/refund';
import { API, chargeObject, paymentEvent, refundObject } from '../support/payment-events';
import { checkJoinLaws, fold, gap, hex } from './join-laws';

/** The paths Stripe documents for a refund: action or waiting first, then succeeded, failed or canceled; a succeeded refund may still fail. */
const PATHS: readonly string[][] = [
  ['succeeded'],
  ['pending', 'succeeded'],
  ['pending', 'failed'],
  ['requires_action', 'canceled'],
  ['requires_action', 'pending', 'succeeded'],
  ['succeeded', 'failed'],
  ['pending', 'succeeded', 'failed'],
  ['pending'],
];

const RANK: Record<string, number> = { pending: 0, requires_action: 0, succeeded: 1, failed: 2, canceled: 2 };

interface Plan {
  start: number;
  path: string[];
  /** Per step: carried as its own refund.* event, or listed in a charge.refunded of an older API version. */
  listed: boolean[];
  gaps: number[];
  ids: string[];
}

const plan: fc.Arbitrary<Plan> = fc.record({
  start: fc.integer({ min: 1_600_000_000, max: 1_800_000_000 }),
  path: fc.constantFrom(...PATHS),
  listed: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  gaps: fc.array(gap, { minLength: 3, maxLength: 3 }),
  ids: fc.uniqueArray(hex(8), { minLength: 3, maxLength: 3 }),
});

function snapshotsOf(p: Plan): RefundSnapshot[] {
  let t = p.start;
  return p.path.map((status, i) => {
    t += p.gaps[i]!;
    const refund = refundObject('ch_prop', { id: 're_prop', status, created: p.start, failureReason: status === 'failed' ? 'lost_or_stolen_card' : null });
    const id = `evt_${p.ids[i]}`;
    if (!p.listed[i]) return refundKind.read(paymentEvent(i === 0 ? 'refund.created' : status === 'failed' ? 'refund.failed' : 'refund.updated', refund, { id, created: t }));
    const charge = chargeObject({ id: 'ch_prop', layout: 'old', amountRefunded: 500, refunds: [refund] });
    return chargeKind.read(paymentEvent('charge.refunded', charge, { id, created: t, apiVersion: API.listsRefunds })).refunds[0]!;
  });
}

describe('the refund reducer over generated lifecycles of one refund, also as charges list it', () => {
  checkJoinLaws({ reduce: refundKind.reduce, lifecycle: plan.map(snapshotsOf), rank: (r) => RANK[r.status ?? 'pending']!, terminal: ['failed', 'canceled'], status: (r) => r.status });

  it('ends in the highest status it reached, a failure with its reason', () => {
    fc.assert(
      fc.property(plan, (p) => {
        const row = fold(refundKind.reduce, snapshotsOf(p)).at(-1)!;
        const top = Math.max(...p.path.map((s) => RANK[s]!));
        expect(RANK[row.status!]).toBe(top);
        if (top > 0) expect(row.status).toBe(p.path.find((s) => RANK[s] === top));
        expect(row.failureReason).toBe(row.status === 'failed' ? 'lost_or_stolen_card' : null);
        expect(row).toMatchObject({ stripeChargeId: 'ch_prop', amountCents: 500, createdAt: p.start });
      }),
      { numRuns: 200 },
    );
  });
});
