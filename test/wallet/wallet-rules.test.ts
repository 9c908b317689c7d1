/**
 * The wallet's pure rules: what an invoice's metadata does to the wallet when it is paid, the one
 * entry its transition to paid writes, and the entries its refunds write, fed back as the pipeline
 * feeds them (after every refund update, the entries written so far).
 */
import fc from 'fast-check';
import type { InvoiceState } from '../../src/billing/invoice-state';
import { amountSettledCents, hasUnknownWalletReason, paidInvoiceEntry, refundEntries, walletEffectOf, type LedgerEntry, type WalletRefund } from '../../src/billing/wallet';
import { openInvoiceState } from '../support/invoice-state';

const DUE = 1_800_000_000;
const PAID_AT = DUE - 86_400;

/** A 50.00 USD invoice of these metadata, open, nothing paid. */
const openInvoice = (metadata: Record<string, string>, o: Partial<InvoiceState> = {}): InvoiceState =>
  openInvoiceState(DUE, {
    stripeInvoiceId: 'in_1WalletRules',
    stripeCustomerId: 'cus_WalletRules',
    collectionMethod: 'charge_automatically',
    amountCents: 5000,
    totalCents: 5000,
    amountRemainingCents: 5000,
    metadata,
    ...o,
  });

/** The same invoice paid by card. */
const paidInvoice = (metadata: Record<string, string>, o: Partial<InvoiceState> = {}): InvoiceState =>
  openInvoice(metadata, { status: 'paid', amountPaidCents: 5000, amountRemainingCents: 0, paidAt: PAID_AT, lastEventId: 'evt_1Paid', ...o });

/** The credit entry of the invoice these tests pay: 'topup_credit' of `credit` cents. */
const creditEntry = (credit: number): LedgerEntry => ({
  naturalKey: 'topup_credit:in_1WalletRules',
  entryType: 'topup_credit',
  amountCents: credit,
  debtSettledCents: 0,
  stripeCustomerId: 'cus_WalletRules',
  stripeAccountId: null,
  currency: 'usd',
  stripeInvoiceId: 'in_1WalletRules',
  stripeChargeId: null,
  stripeRefundId: null,
  reason: 'topup_failed',
  sourceEventId: 'evt_1Paid',
  livemode: false,
  occurredAt: PAID_AT,
});

describe('walletEffectOf', () => {
  it.each<[string, Record<string, string>, ReturnType<typeof walletEffectOf>]>([
    ['topup_failed credits', { reason: 'topup_failed' }, { effect: 'credit', entryType: 'topup_credit', reason: 'topup_failed' }],
    ['overage settles', { reason: 'overage' }, { effect: 'settle', entryType: 'overage_settled', reason: 'overage' }],
    ['manual with wallet_effect credit credits', { reason: 'manual', wallet_effect: 'credit' }, { effect: 'credit', entryType: 'manual_credit', reason: 'manual' }],
    ['manual with wallet_effect none', { reason: 'manual', wallet_effect: 'none' }, { effect: 'none', reason: 'manual' }],
    ['manual without wallet_effect', { reason: 'manual' }, { effect: 'none', reason: 'manual' }],
    ['manual with an empty wallet_effect', { reason: 'manual', wallet_effect: '' }, { effect: 'none', reason: 'manual' }],
    ['manual with a wallet_effect it does not know', { reason: 'manual', wallet_effect: 'maybe' }, { effect: 'none', reason: 'manual', unknown: 'wallet_effect' }],
    ['manual: wallet_effect is case sensitive', { reason: 'manual', wallet_effect: 'Credit' }, { effect: 'none', reason: 'manual', unknown: 'wallet_effect' }],
    ['a reason it does not know', { reason: 'promo' }, { effect: 'none', reason: 'promo', unknown: 'reason' }],
    ['reasons are case sensitive', { reason: 'Topup_failed' }, { effect: 'none', reason: 'Topup_failed', unknown: 'reason' }],
    ['a reason with spaces around it is not trimmed', { reason: ' overage' }, { effect: 'none', reason: ' overage', unknown: 'reason' }],
    ['no reason', {}, { effect: 'none', reason: null }],
    ['an empty reason', { reason: '' }, { effect: 'none', reason: null }],
    ['a wallet_effect without a reason', { wallet_effect: 'credit' }, { effect: 'none', reason: null }],
    ['wallet_effect is read only on manual invoices', { reason: 'topup_failed', wallet_effect: 'none' }, { effect: 'credit', entryType: 'topup_credit', reason: 'topup_failed' }],
    ['an overage invoice is not turned into a credit by wallet_effect', { reason: 'overage', wallet_effect: 'credit' }, { effect: 'settle', entryType: 'overage_settled', reason: 'overage' }],
    ['other metadata is ignored', { reason: 'topup_failed', order: 'A-1' }, { effect: 'credit', entryType: 'topup_credit', reason: 'topup_failed' }],
  ])('%s', (_name, metadata, want) => {
    expect(walletEffectOf(metadata)).toEqual(want);
    expect(hasUnknownWalletReason(metadata)).toBe('unknown' in want);
  });

  it('never throws; unknown exactly when a reason, or a manual wallet_effect, is set and not one it knows', () => {
    const word = fc.oneof(fc.constantFrom('topup_failed', 'overage', 'manual', 'credit', 'none', '', 'Manual', 'NONE', '__proto__'), fc.string({ maxLength: 12 }));
    fc.assert(
      fc.property(fc.option(word, { nil: undefined }), fc.option(word, { nil: undefined }), (reason, effect) => {
        const metadata: Record<string, string> = {};
        if (reason !== undefined) Object.defineProperty(metadata, 'reason', { value: reason, enumerable: true });
        if (effect !== undefined) metadata['wallet_effect'] = effect;
        const known = reason === undefined || reason === '' || ['topup_failed', 'overage', 'manual'].includes(reason);
        const knownEffect = reason !== 'manual' || effect === undefined || ['credit', 'none', ''].includes(effect);
        expect(hasUnknownWalletReason(metadata)).toBe(!known || !knownEffect);
        const w = walletEffectOf(metadata);
        if (w.effect !== 'none') expect(w.entryType).toBe({ topup_failed: 'topup_credit', overage: 'overage_settled', manual: 'manual_credit' }[w.reason]);
      }),
      { seed: 1717, numRuns: 300 },
    );
  });
});

describe('amountSettledCents', () => {
  it.each<[string, Partial<InvoiceState>, number]>([
    ['paid by card: amount_paid', { amountPaidCents: 5000, amountRemainingCents: 0 }, 5000],
    ['paid out of band on an older API version: amount_paid 0, what was due and no longer is', { amountPaidCents: 0, amountRemainingCents: 0 }, 5000],
    ['partly paid out of band after a card payment of 10.00', { amountPaidCents: 1000, amountRemainingCents: 0 }, 5000],
    ['nothing paid', { amountPaidCents: 0, amountRemainingCents: 5000 }, 0],
    ['partly paid, still open', { amountPaidCents: 1200, amountRemainingCents: 3800 }, 1200],
  ])('%s', (_name, o, want) => {
    expect(amountSettledCents(openInvoice({}, o))).toBe(want);
  });
});

describe('paidInvoiceEntry', () => {
  const topup = { reason: 'topup_failed' };
  const credit: LedgerEntry = { ...creditEntry(5000), sourceEventId: 'evt_1Source' };


  it.each<[string, InvoiceState | null]>([
    ['open → paid', openInvoice(topup)],
    ['uncollectible → paid', openInvoice(topup, { status: 'uncollectible', markedUncollectibleAt: PAID_AT - 60 })],
    ['first seen paid (no row before)', null],
  ])('writes the credit on the transition %s', (_name, previous) => {
    expect(paidInvoiceEntry(previous, paidInvoice(topup), 'evt_1Source')).toEqual(credit);
  });

  it('names the source it is given, the connected account, the mode and the customer of the paid state', () => {
    const next = paidInvoice(topup, { stripeAccountId: 'acct_1Wallet', livemode: true, stripeCustomerId: 'cus_Other', currency: 'eur' });
    expect(paidInvoiceEntry(openInvoice(topup, { stripeAccountId: 'acct_1Wallet' }), next, 'api_import_1800000000')).toEqual({
      ...credit,
      stripeAccountId: 'acct_1Wallet',
      livemode: true,
      stripeCustomerId: 'cus_Other',
      currency: 'eur',
      sourceEventId: 'api_import_1800000000',
    });
  });

  it.each<[string, InvoiceState | null, InvoiceState]>([
    ['paid → paid (a later change of a paid invoice)', paidInvoice(topup), paidInvoice(topup, { metadata: { ...topup, note: 'x' } })],
    ['paid → paid, even one whose amount differs', paidInvoice(topup, { amountPaidCents: 4000 }), paidInvoice(topup)],
    ['open → void', openInvoice(topup), openInvoice(topup, { status: 'void', amountRemainingCents: 0, voidedAt: PAID_AT })],
    ['first seen void', null, openInvoice(topup, { status: 'void', amountRemainingCents: 0, voidedAt: PAID_AT })],
    ['open → open with a payment', openInvoice(topup), openInvoice(topup, { amountPaidCents: 1000, amountRemainingCents: 4000 })],
    ['open → uncollectible', openInvoice(topup), openInvoice(topup, { status: 'uncollectible' })],
    ['a deletion stub: no currency', openInvoice(topup), paidInvoice(topup, { currency: null })],
    ['a zero-amount topup invoice: nothing settled, nothing credited', null, paidInvoice(topup, { amountCents: 0, totalCents: 0, amountPaidCents: 0, amountRemainingCents: 0 })],
    ['a zero-amount overage invoice: no debt settled, no entry', null, paidInvoice({ reason: 'overage' }, { amountCents: 0, totalCents: 0, amountPaidCents: 0, amountRemainingCents: 0 })],
    ['a reason it does not know', openInvoice({ reason: 'promo' }), paidInvoice({ reason: 'promo' })],
    ['no reason', openInvoice({}), paidInvoice({})],
    ['manual without wallet_effect', openInvoice({ reason: 'manual' }), paidInvoice({ reason: 'manual' })],
    ['manual with wallet_effect none', openInvoice({ reason: 'manual', wallet_effect: 'none' }), paidInvoice({ reason: 'manual', wallet_effect: 'none' })],
    ['manual with a wallet_effect it does not know', openInvoice({ reason: 'manual', wallet_effect: 'maybe' }), paidInvoice({ reason: 'manual', wallet_effect: 'maybe' })],
  ])('writes nothing: %s', (_name, previous, next) => {
    expect(paidInvoiceEntry(previous, next, 'evt_1Source')).toBeNull();
  });

  it('credits what was due and no longer is when paid out of band with amount_paid 0', () => {
    const next = paidInvoice(topup, { amountPaidCents: 0, amountRemainingCents: 0 });
    expect(paidInvoiceEntry(openInvoice(topup), next, 'evt_1Source')).toMatchObject({ entryType: 'topup_credit', amountCents: 5000, debtSettledCents: 0 });
  });

  it('credits a manual invoice with wallet_effect credit as manual_credit', () => {
    const manual = { reason: 'manual', wallet_effect: 'credit' };
    expect(paidInvoiceEntry(openInvoice(manual), paidInvoice(manual, { amountPaidCents: 1234, amountCents: 1234, totalCents: 1234 }), 'evt_1Source')).toEqual({
      ...credit,
      naturalKey: 'manual_credit:in_1WalletRules',
      entryType: 'manual_credit',
      amountCents: 1234,
      reason: 'manual',
    });
  });

  it('an overage invoice settles the debt: amount 0, debt settled what was paid, also out of band', () => {
    const overage = { reason: 'overage' };
    const want = { ...credit, naturalKey: 'overage_settled:in_1WalletRules', entryType: 'overage_settled', amountCents: 0, debtSettledCents: 5000, reason: 'overage' };
    expect(paidInvoiceEntry(openInvoice(overage), paidInvoice(overage), 'evt_1Source')).toEqual(want);
    expect(paidInvoiceEntry(null, paidInvoice(overage, { amountPaidCents: 0 }), 'evt_1Source')).toEqual(want);
  });
});

// --- refunds ---------------------------------------------------------------------------------

const CHARGE = 'ch_1WalletRules';
const STATUS_ORDER = ['pending', 'succeeded', 'failed', 'canceled'] as const;
type RefundStatus = (typeof STATUS_ORDER)[number];

/** The status paths a refund can take at Stripe, each only forward. */
const PATHS: ReadonlyArray<readonly RefundStatus[]> = [
  ['pending'],
  ['succeeded'],
  ['pending', 'succeeded'],
  ['succeeded', 'failed'],
  ['pending', 'succeeded', 'failed'],
  ['pending', 'failed'],
  ['pending', 'canceled'],
];

interface Update {
  refund: string;
  status: RefundStatus;
  /** Position on the refund's own path: a merged row never moves back (a late copy is ignored). */
  step: number;
  eventId: string;
}

/**
 * A charge's refunds as they happened, in chronological order of their updates, each within what
 * Stripe allows: a refund is created only for what the charge still has refundable (pending and
 * succeeded refunds hold their amount; a failed or canceled one frees it).
 */
interface Scenario {
  credit: number;
  amounts: Map<string, number>;
  createdAt: Map<string, number>;
  updates: Update[];
}

const scenario = fc
  .record({
    credit: fc.integer({ min: 1, max: 10_000 }),
    refunds: fc.array(fc.record({ path: fc.constantFrom(...PATHS), share: fc.integer({ min: 1, max: 1_000_000 }) }), { minLength: 1, maxLength: 4 }),
    schedule: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
  })
  .map(({ credit, refunds, schedule }): Scenario => {
    // Which refund moves next, as the schedule says; each refund's own updates stay in order.
    const next = refunds.map(() => 0);
    const order: number[] = [];
    for (let k = 0; order.length < refunds.reduce((n, r) => n + r.path.length, 0); k++) {
      const waiting = refunds.flatMap((r, i) => (next[i]! < r.path.length ? [i] : []));
      const i = waiting[(schedule[k % schedule.length]! + k) % waiting.length]!;
      order.push(i);
      next[i]!++;
    }
    const amounts = new Map<string, number>();
    const createdAt = new Map<string, number>();
    const held = new Map<string, number>();
    const dropped = new Set<number>();
    const updates: Update[] = [];
    const seen = refunds.map(() => 0);
    for (const i of order) {
      const id = `re_${i}`;
      const step = seen[i]!++;
      if (dropped.has(i)) continue;
      const status = refunds[i]!.path[step]!;
      if (step === 0) {
        const room = credit - [...held.values()].reduce((a, b) => a + b, 0);
        if (room <= 0) {
          dropped.add(i);
          continue;
        }
        amounts.set(id, 1 + (refunds[i]!.share % room));
        createdAt.set(id, 1_800_000_000 + updates.length);
      }
      if (status === 'pending' || status === 'succeeded') held.set(id, amounts.get(id)!);
      else held.delete(id);
      updates.push({ refund: id, status, step, eventId: `evt_${id}_${status}` });
    }
    return { credit, amounts, createdAt, updates };
  });

/** Another order of delivery that keeps each refund's own updates in order. */
function interleaving(updates: readonly Update[], picks: readonly number[]): Update[] {
  const queues = new Map<string, Update[]>();
  for (const u of updates) queues.set(u.refund, [...(queues.get(u.refund) ?? []), u]);
  const out: Update[] = [];
  for (let k = 0; out.length < updates.length; k++) {
    const ready = [...queues.values()].filter((q) => q.length > 0);
    out.push(ready[picks[k % Math.max(1, picks.length)]! % ready.length]!.shift()!);
  }
  return out;
}


interface Applied {
  entries: LedgerEntry[];
  /** The balance after each update. */
  balances: number[];
}

/**
 * The updates delivered in this order, each merged into the refund's row as the pipeline merges
 * it (a status behind the row's is ignored), then the planner run over the invoice's refunds with
 * every entry written so far, as the refund kind's effects do. The credit is written at
 * `creditAt` (before the first update: 0), as the invoice kind's effects do, planning once more.
 */
function apply(s: Scenario, order: readonly Update[], creditAt = 0): Applied {
  const rows = new Map<string, { status: RefundStatus; step: number; eventId: string }>();
  const entries: LedgerEntry[] = [];
  const balances: number[] = [];
  const refunds = (): WalletRefund[] =>
    [...rows].map(([id, r]) => ({ stripeRefundId: id, stripeChargeId: CHARGE, amountCents: s.amounts.get(id)!, status: r.status, createdAt: s.createdAt.get(id)!, lastEventId: r.eventId }));
  const plan = () => entries.push(...refundEntries(entries, refunds()));
  order.forEach((u, k) => {
    if (k === creditAt) {
      entries.push(creditEntry(s.credit));
      plan();
    }
    const row = rows.get(u.refund);
    if (row === undefined || row.step < u.step) rows.set(u.refund, { status: u.status, step: u.step, eventId: u.eventId });
    plan();
    balances.push(entries.reduce((sum, e) => sum + e.amountCents, 0));
  });
  if (creditAt >= order.length) {
    entries.push(creditEntry(s.credit));
    plan();
  }
  return { entries, balances };
}

const sorted = (entries: readonly LedgerEntry[]) => [...entries].sort((a, b) => (a.naturalKey < b.naturalKey ? -1 : a.naturalKey > b.naturalKey ? 1 : 0));
const balanceOf = (entries: readonly LedgerEntry[]) => entries.reduce((sum, e) => sum + e.amountCents, 0);
/** The balance a person works out: the credit less every refund that stands succeeded at the end. */
function expectedBalance(s: Scenario): number {
  const last = new Map(s.updates.map((u) => [u.refund, u.status]));
  return s.credit - [...last].filter(([, status]) => status === 'succeeded').reduce((sum, [id]) => sum + s.amounts.get(id)!, 0);
}

describe('refundEntries', () => {
  const refund = (id: string, amountCents: number, status: string | null, createdAt = 1_800_000_000): WalletRefund => ({
    stripeRefundId: id,
    stripeChargeId: CHARGE,
    amountCents,
    status,
    createdAt,
    lastEventId: `evt_${id}_${status}`,
  });

  it('writes nothing for an invoice without a credit (no entries, or an overage settled)', () => {
    expect(refundEntries([], [refund('re_1', 100, 'succeeded')])).toEqual([]);
    const settled = { ...creditEntry(0), naturalKey: 'overage_settled:in_1WalletRules', entryType: 'overage_settled' as const, debtSettledCents: 5000, reason: 'overage' };
    expect(refundEntries([settled], [refund('re_1', 100, 'succeeded')])).toEqual([]);
  });

  it('takes a succeeded refund back once, naming the refund, its charge and its last event', () => {
    const first = refundEntries([creditEntry(5000)], [refund('re_1', 1500, 'succeeded', 1_800_000_123)]);
    expect(first).toEqual([
      {
        ...creditEntry(5000),
        naturalKey: 'refund_reversal:re_1',
        entryType: 'refund_reversal',
        amountCents: -1500,
        stripeChargeId: CHARGE,
        stripeRefundId: 're_1',
        sourceEventId: 'evt_re_1_succeeded',
        occurredAt: 1_800_000_123,
      },
    ]);
    expect(refundEntries([creditEntry(5000), ...first], [refund('re_1', 1500, 'succeeded', 1_800_000_123)])).toEqual([]);
  });

  it('a pending refund, or one with no status, waits; a refund that failed before it succeeded writes nothing', () => {
    expect(refundEntries([creditEntry(5000)], [refund('re_1', 100, 'pending'), refund('re_2', 100, null), refund('re_3', 100, 'failed'), refund('re_4', 100, 'canceled')])).toEqual([]);
  });

  it('gives back what a reversal took when the refund fails or is canceled after it succeeded, once', () => {
    const reversal = refundEntries([creditEntry(5000)], [refund('re_1', 700, 'succeeded')]);
    for (const status of ['failed', 'canceled']) {
      const back = refundEntries([creditEntry(5000), ...reversal], [refund('re_1', 700, status)]);
      expect(back.map((e) => [e.naturalKey, e.entryType, e.amountCents, e.sourceEventId])).toEqual([[`refund_failed:re_1`, 'refund_failed', 700, `evt_re_1_${status}`]]);
      expect(refundEntries([creditEntry(5000), ...reversal, ...back], [refund('re_1', 700, status)])).toEqual([]);
    }
  });

  it('takes back the whole amount of each refund, whatever the others: Stripe bounds what a charge can refund', () => {
    const out = refundEntries([creditEntry(1000)], [refund('re_late', 300, 'succeeded', 1_800_000_002), refund('re_early', 700, 'succeeded', 1_800_000_001)]);
    expect(out.map((e) => [e.stripeRefundId, e.amountCents])).toEqual([
      ['re_early', -700],
      ['re_late', -300],
    ]);
    // A refund written before does not change what a new one takes.
    expect(refundEntries([creditEntry(1000), ...out.slice(0, 1)], [refund('re_early', 700, 'succeeded', 1), refund('re_late', 300, 'succeeded', 2)]).map((e) => e.amountCents)).toEqual([-300]);
  });

  it('for refunds within what Stripe allows: delivered as they happened the balance never goes below 0; in any order no natural key repeats', () => {
    fc.assert(
      fc.property(scenario, fc.array(fc.nat(), { minLength: 1, maxLength: 16 }), (s, picks) => {
        expect(Math.min(...apply(s, s.updates).balances)).toBeGreaterThanOrEqual(0);
        for (const order of [s.updates, interleaving(s.updates, picks)]) {
          const { entries } = apply(s, order);
          const keys = entries.map((e) => e.naturalKey);
          expect(new Set(keys).size).toBe(keys.length);
          // Each refund's entries: a reversal, then at most one giving it back, of the same amount.
          for (const id of s.amounts.keys()) {
            const mine = entries.filter((e) => e.stripeRefundId === id);
            expect(mine.map((e) => e.entryType)).toEqual(mine.length === 0 ? [] : ['refund_reversal', 'refund_failed'].slice(0, mine.length));
            if (mine.length === 2) expect(mine[0]!.amountCents + mine[1]!.amountCents).toBe(0);
          }
        }
      }),
      { seed: 4242, numRuns: 400 },
    );
  });

  it('any interleaving that keeps the updates of each refund in order writes the same entries as the chronological order, and the balance a person expects', () => {
    fc.assert(
      fc.property(
        scenario,
        fc.array(fc.nat(), { minLength: 1, maxLength: 16 }),
        (s, picks) => {
          const chronological = apply(s, s.updates).entries;
          expect(balanceOf(chronological)).toBe(expectedBalance(s));
          expect(sorted(apply(s, interleaving(s.updates, picks)).entries)).toEqual(sorted(chronological));
        },
      ),
      { seed: 2024, numRuns: 400 },
    );
  });

  it('in any order of delivery at all (a late copy ignored, steps skipped), and whenever the credit is written: the balance a person expects', () => {
    fc.assert(
      fc.property(
        scenario,
        fc.array(fc.nat(), { maxLength: 16 }),
        fc.nat(),
        (s, keys, creditAt) => {
          const order = s.updates.map((u, i) => ({ u, key: keys[i % Math.max(1, keys.length)]! * 31 + i })).sort((a, b) => a.key - b.key).map((x) => x.u);
          const { entries } = apply(s, order, creditAt % (order.length + 1));
          expect(balanceOf(entries)).toBe(expectedBalance(s));
        },
      ),
      { seed: 77, numRuns: 400 },
    );
  });

  // Credit 100.00; refund A 80.00 succeeded, then failed; refund B 80.00, created after A failed
  // (Stripe frees a failed refund's amount), succeeded. However A's failure and B's success are
  // delivered, the wallet ends at 20.00 with the same four entries.
  it('a refund whose failure is delivered after a later refund succeeded leaves the later one whole', () => {
    const s: Scenario = {
      credit: 10_000,
      amounts: new Map([
        ['re_A', 8_000],
        ['re_B', 8_000],
      ]),
      createdAt: new Map([
        ['re_A', 1_800_000_000],
        ['re_B', 1_800_000_002],
      ]),
      updates: [
        { refund: 're_A', status: 'succeeded', step: 0, eventId: 'evt_re_A_succeeded' },
        { refund: 're_A', status: 'failed', step: 1, eventId: 'evt_re_A_failed' },
        { refund: 're_B', status: 'succeeded', step: 0, eventId: 'evt_re_B_succeeded' },
      ],
    };
    const chronological = apply(s, s.updates).entries;
    expect(balanceOf(chronological)).toBe(2_000);
    const late = apply(s, [s.updates[0]!, s.updates[2]!, s.updates[1]!]).entries;
    expect(sorted(late)).toEqual(sorted(chronological));
    expect(balanceOf(late)).toBe(2_000);
  });
});
