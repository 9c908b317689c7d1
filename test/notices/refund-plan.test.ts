// The refund notices' pure planner: which refund_issued rows a charge of an invoice calls for,
// given its known refunds, its highest amount_refunded and the refund rows its invoice has. The
// properties replay Stripe's two paths (a Refund; a charge whose amount_refunded rose) in every
// order, with duplicates, and count what the customer is told.
import fc from 'fast-check';
import {
  isWithdrawn,
  levelSubject,
  parseRefundSubject,
  planRefundNotices,
  refundNoticeTruth,
  refundSubject,
  toldOf,
  type ChargeRefunds,
  type RefundFact,
  type RefundOccasion,
  type ToldRefund,
} from '../../src/billing/notice-refunds';
import { ALL_NOTICES, MAX_AGE, policyOf } from '../support/notice-policy';

const NOW = 1_800_000_000;
const LIVE: RefundOccasion = { mode: 'live', seenAt: NOW - 5 };
const CH = 'ch_1Plan';

const refund = (id: string, amountCents: number, o: Partial<RefundFact> = {}): RefundFact => ({ id, amountCents, status: 'succeeded', createdAt: NOW - 100, ...o });
const charge = (amountRefundedCents: number, refunds: RefundFact[], refundedAt = NOW - 10): ChargeRefunds => ({ chargeId: CH, amountRefundedCents, refundedAt, refunds });

type Outbox = Map<string, ToldRefund>;
/** A row of the outbox as the planner reads it. */
const row = (amountCents: number, status: ToldRefund['status'] = 'pending', lastError: string | null = null): ToldRefund => ({ amountCents, status, lastError });
const outbox = (entries: ReadonlyArray<readonly [string, number]> = []): Outbox => new Map(entries.map(([s, a]) => [s, row(a)]));
const toldAmounts = (told: Outbox) => [...told.values()].map((t) => t.amountCents);

/** The outbox as the planner reads it, after writing what it planned (the first row of a subject stays). */
function apply(told: Outbox, c: ChargeRefunds, occasion = LIVE, now = NOW, policy = ALL_NOTICES) {
  const planned = planRefundNotices(c, told, occasion, now, policy);
  for (const n of planned) if (!told.has(n.subject)) told.set(n.subject, toldOf(n));
  return planned;
}

/**
 * One mailer pass: each pending row is sent, or skipped with the reason refundNoticeTruth gives,
 * in queue order, each seeing the rows settled before it (as claimDueNotice's last look does).
 */
function mail(told: Outbox, c: ChargeRefunds): void {
  for (const [subject, t] of told) {
    if (t.status !== 'pending') continue;
    const truth = refundNoticeTruth(parseRefundSubject(subject)!, c, told);
    // A refund awaiting the customer's action is put off, as the mailer does: the row stays pending.
    if (!truth.holds && truth.awaiting) continue;
    told.set(subject, truth.holds ? { ...t, status: 'sent' } : { ...t, status: 'skipped', lastError: truth.reason });
  }
}
const sentTotal = (told: Outbox) => [...told.values()].filter((t) => t.status === 'sent').reduce((s, t) => s + t.amountCents, 0);

describe('subjects', () => {
  it('reads back what it writes, and nothing else', () => {
    expect(parseRefundSubject(refundSubject('re_1'))).toEqual({ refund: 're_1' });
    expect(parseRefundSubject(levelSubject('ch_1', 1000))).toEqual({ charge: 'ch_1', level: 1000 });
    expect(parseRefundSubject(levelSubject('ch:odd', 5))).toEqual({ charge: 'ch:odd', level: 5 });
    for (const bad of ['', 'refund:', 'charge:ch_1', 'charge:ch_1:', 'charge:ch_1:-5', 'charge:ch_1:1e3', 're_1', 'invoice:in_1']) expect(parseRefundSubject(bad)).toBeNull();
  });
});

describe('planRefundNotices', () => {
  it('a refund of an invoice charge: one row, keyed by the refund, telling its amount', () => {
    expect(planRefundNotices(charge(300, [refund('re_1', 300)]), new Map(), LIVE, NOW, ALL_NOTICES)).toEqual([
      { kind: 'refund_issued', sequence: 0, subject: 'refund:re_1', amountCents: 300, skip: null },
    ]);
  });

  it('a rise of amount_refunded with no refund known: one row for the level, telling the rise', () => {
    const told = outbox();
    expect(apply(told, charge(300, []))).toEqual([{ kind: 'refund_issued', sequence: 0, subject: `charge:${CH}:300`, amountCents: 300, skip: null }]);
    expect(apply(told, charge(1000, []))).toEqual([{ kind: 'refund_issued', sequence: 0, subject: `charge:${CH}:1000`, amountCents: 700, skip: null }]);
  });

  it('refund first, then the charge: the level is explained', () => {
    const told = outbox();
    expect(apply(told, charge(0, [refund('re_1', 300)]))).toHaveLength(1);
    expect(apply(told, charge(300, [refund('re_1', 300)]))).toEqual([]);
  });

  it('charge first, then the refund: the refund is told by the level', () => {
    const told = outbox();
    expect(apply(told, charge(300, []))).toHaveLength(1);
    expect(apply(told, charge(300, [refund('re_1', 300)]))).toEqual([]);
  });

  it.each(['failed', 'canceled', 'requires_action', null])('a refund that is %s is no news', (status) => {
    expect(planRefundNotices(charge(0, [refund('re_1', 300, { status })]), new Map(), LIVE, NOW, ALL_NOTICES)).toEqual([]);
  });

  it('a refund that failed explains the rise of amount_refunded it caused: no level row for it', () => {
    expect(planRefundNotices(charge(300, [refund('re_1', 300, { status: 'failed' })]), new Map(), LIVE, NOW, ALL_NOTICES)).toEqual([]);
  });

  it('a refund that became news later (requires_action, then pending) is told then', () => {
    const told = outbox();
    expect(apply(told, charge(300, [refund('re_1', 300, { status: 'requires_action' })]))).toEqual([]);
    expect(apply(told, charge(300, [refund('re_1', 300, { status: 'pending' })])).map((n) => n.subject)).toEqual(['refund:re_1']);
  });

  it('is off with NOTICE_KINDS without refund_issued', () => {
    expect(planRefundNotices(charge(600, [refund('re_1', 300)]), new Map(), LIVE, NOW, policyOf(['invoice_paid']))).toEqual([]);
  });

  it('records old news as stale: a refund by its created, a level by the event that told of it', () => {
    const old = NOW - MAX_AGE - 1;
    expect(planRefundNotices(charge(0, [refund('re_1', 300, { createdAt: old })]), new Map(), LIVE, NOW, ALL_NOTICES)).toEqual([
      expect.objectContaining({ subject: 'refund:re_1', skip: 'stale' }),
    ]);
    expect(planRefundNotices(charge(300, []), new Map(), { mode: 'live', seenAt: old }, NOW, ALL_NOTICES)).toEqual([expect.objectContaining({ subject: `charge:${CH}:300`, skip: 'stale' })]);
    // As for the invoice kinds, only a baseline records a kind that is off.
    expect(planRefundNotices(charge(0, [refund('re_1', 300, { createdAt: old })]), new Map(), LIVE, NOW, policyOf([]))).toEqual([]);
  });

  it('a baseline (an import) records the past as imported, whatever NOTICE_KINDS says, and what came after it as news', () => {
    const began = NOW - 600;
    const baseline: RefundOccasion = { mode: 'baseline', baselineAt: began, seenAt: NOW };
    expect(planRefundNotices(charge(800, [refund('re_1', 300, { createdAt: began - 60 })]), new Map(), baseline, NOW, policyOf([]))).toEqual([
      expect.objectContaining({ subject: 'refund:re_1', skip: 'imported' }),
      expect.objectContaining({ subject: `charge:${CH}:800`, amountCents: 500, skip: 'imported' }),
    ]);
    expect(planRefundNotices(charge(300, [refund('re_2', 300, { createdAt: began + 60 })]), new Map(), baseline, NOW, ALL_NOTICES)).toEqual([
      expect.objectContaining({ subject: 'refund:re_2', skip: null }),
    ]);
  });

  it("ignores the level rows of the invoice's other charges", () => {
    const told = outbox([[levelSubject('ch_other', 300), 300]]);
    expect(planRefundNotices(charge(300, [refund('re_1', 300)]), told, LIVE, NOW, ALL_NOTICES).map((n) => n.subject)).toEqual(['refund:re_1']);
  });
});

/** A charge refunded in parts; Stripe's two paths for each part are events of the simulation. */
type Event = { refund: number } | { level: number };

/** Plays the events in order (a level event carries the charge's amount_refunded after that many refunds). */
function play(amounts: readonly number[], events: readonly Event[], statuses: readonly string[] = amounts.map(() => 'succeeded')) {
  const refunds = amounts.map((a, i) => refund(`re_${i}`, a, { createdAt: NOW - 100 + i, status: statuses[i]! }));
  const prefix = (k: number) => amounts.slice(0, k + 1).reduce((s, a) => s + a, 0);
  const known = new Set<number>();
  // The charge.refunded of a refund is created in the same second as the refund; the charge keeps the latest.
  let last = -1;
  const now = () => charge(last < 0 ? 0 : prefix(last), refunds.filter((_, i) => known.has(i)), last < 0 ? NOW - 200 : refunds[last]!.createdAt);
  const told = outbox();
  for (const e of events) {
    if ('refund' in e) known.add(e.refund);
    else last = Math.max(last, e.level);
    apply(told, now());
  }
  const final = now();
  return { told, final, total: prefix(amounts.length - 1) };
}

const amountsArb = fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 4 });
/** Every event of every part at least once, some twice, in any order. */
const eventsArb = (n: number) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: 2 * n, maxLength: 2 * n }),
      fc.array(fc.nat(), { minLength: 4 * n, maxLength: 4 * n }),
    )
    .map(([twice, keys]) => {
      const events: Event[] = [];
      for (let i = 0; i < n; i++) events.push({ refund: i }, { level: i });
      const all = [...events, ...events.filter((_, i) => twice[i])];
      return all.map((e, i) => ({ e, k: keys[i] ?? 0 })).sort((a, b) => a.k - b.k).map((x) => x.e);
    });

describe('Stripe telling of refunds both ways, in any order, with duplicates', () => {
  it('each refund sent with its own pair of events, in either order, is told once, by one row, of its amount', () => {
    fc.assert(
      fc.property(amountsArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (amounts, flips) => {
        const events: Event[] = amounts.flatMap((_, i): Event[] => (flips[i] ? [{ refund: i }, { level: i }, { refund: i }] : [{ level: i }, { refund: i }, { level: i }]));
        const { told } = play(amounts, events);
        expect(toldAmounts(told)).toEqual(amounts);
      }),
    );
  });

  it('every cent refunded is told exactly once, whatever the order, once all is known', () => {
    fc.assert(
      fc.property(
        amountsArb.chain((amounts) => fc.tuple(fc.constant(amounts), eventsArb(amounts.length))),
        ([amounts, events]) => {
          const { told, total } = play(amounts, events);
          expect(toldAmounts(told).reduce((s, a) => s + a, 0)).toBe(total);
          expect(told.size).toBeLessThanOrEqual(2 * amounts.length);
          expect(toldAmounts(told).every((a) => a > 0)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('looking again at the final state queues nothing; the refunds that failed get no row', () => {
    fc.assert(
      fc.property(
        amountsArb.chain((amounts) => fc.tuple(fc.constant(amounts), eventsArb(amounts.length), fc.array(fc.constantFrom('succeeded', 'pending', 'failed', 'canceled'), { minLength: amounts.length, maxLength: amounts.length }))),
        ([amounts, events, statuses]) => {
          const { told, final } = play(amounts, events, statuses);
          expect(planRefundNotices(final, told, LIVE, NOW, ALL_NOTICES)).toEqual([]);
          statuses.forEach((s, i) => {
            if (s === 'failed' || s === 'canceled') expect(told.has(refundSubject(`re_${i}`))).toBe(false);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('a refund tried again after one that failed', () => {
  const T1 = NOW - 300;
  const T2 = NOW - 100;
  const failed = refund('re_1', 1000, { status: 'failed', createdAt: T1 });
  const retry = (amount = 1000) => refund('re_2', amount, { createdAt: T2 });
  const toldRetry = (amount = 1000) => [{ kind: 'refund_issued', sequence: 0, subject: refundSubject('re_2'), amountCents: amount, skip: null }];

  /** charge.refunded raised amount_refunded to 1000 (a level row), then refund.failed. */
  function levelThenFailed(): Outbox {
    const told = outbox();
    expect(apply(told, charge(1000, [], T1))).toEqual([expect.objectContaining({ subject: levelSubject(CH, 1000), amountCents: 1000 })]);
    expect(apply(told, charge(1000, [failed], T1))).toEqual([]);
    return told;
  }

  /** The retry's two events in either order: the charge's amount_refunded (1000 again: Stripe gave the failed refund's back) and refund.created. */
  const retrySteps = (amountFirst: boolean, amount = 1000): ChargeRefunds[] =>
    amountFirst ? [charge(1000, [failed], T2), charge(1000, [failed, retry(amount)], T2)] : [charge(1000, [failed, retry(amount)], T1), charge(1000, [failed, retry(amount)], T2)];

  it.each([
    ['charge.refunded first', true],
    ['refund.created first', false],
  ])('the level withdrawn by the mailer, then the retry (%s): told by its own row', (_name, amountFirst) => {
    const told = levelThenFailed();
    mail(told, charge(1000, [failed], T1));
    expect(told.get(levelSubject(CH, 1000))).toEqual(row(1000, 'skipped', 'refund_failed'));
    const steps = retrySteps(amountFirst);
    expect(steps.flatMap((c) => apply(told, c))).toEqual(toldRetry());
    mail(told, steps[1]!);
    expect(sentTotal(told)).toBe(1000);
    expect(planRefundNotices(steps[1]!, told, LIVE, NOW, ALL_NOTICES)).toEqual([]);
  });

  it.each([
    ['charge.refunded first, the same amount', true, 1000],
    ['refund.created first, the same amount', false, 1000],
    ['charge.refunded first, a smaller amount', true, 400],
    ['refund.created first, a smaller amount', false, 400],
  ])('the retry before the mailer looked at the level (%s): the level lapses, the retry is told by its own row', (_name, amountFirst, amount) => {
    const told = levelThenFailed();
    const steps = retrySteps(amountFirst, amount);
    expect(steps.flatMap((c) => apply(told, c))).toEqual(toldRetry(amount));
    mail(told, steps[1]!);
    expect([...told].map(([s, t]) => [s, t.status, t.lastError])).toEqual([
      [levelSubject(CH, 1000), 'skipped', 'refund_failed'],
      [refundSubject('re_2'), 'sent', null],
    ]);
    expect(sentTotal(told)).toBe(amount);
  });

  it.each([
    ['charge.refunded first', true],
    ['refund.created first', false],
  ])("the failed refund told by its own row, withdrawn; then the retry (%s): told by the retry's row", (_name, amountFirst) => {
    const told = outbox();
    expect(apply(told, charge(0, [refund('re_1', 1000, { status: 'pending', createdAt: T1 })], NOW - 400)).map((n) => n.subject)).toEqual([refundSubject('re_1')]);
    expect(apply(told, charge(1000, [failed], T1))).toEqual([]);
    mail(told, charge(1000, [failed], T1));
    expect(told.get(refundSubject('re_1'))).toEqual(row(1000, 'skipped', 'refund_failed'));
    const steps = retrySteps(amountFirst);
    expect(steps.flatMap((c) => apply(told, c))).toEqual(toldRetry());
    mail(told, steps[1]!);
    expect(sentTotal(told)).toBe(1000);
  });

  it('a level that went out before its refund failed stays told: a retry of no more than it is taken as told by it', () => {
    const told = outbox();
    apply(told, charge(1000, [], T1));
    mail(told, charge(1000, [], T1));
    expect(apply(told, charge(1000, [failed], T1))).toEqual([]);
    for (const c of retrySteps(true)) expect(apply(told, c)).toEqual([]);
    expect(sentTotal(told)).toBe(1000);
  });

  it('only what the mailer skipped because the refund failed, was canceled or awaits action is withdrawn', () => {
    for (const reason of ['refund_failed', 'refund_canceled', 'refund_requires_action', 'refund_without_status']) expect(isWithdrawn(row(1, 'skipped', reason))).toBe(true);
    for (const reason of ['imported', 'stale', 'no_recipient', 'invoice_deleted']) expect(isWithdrawn(row(1, 'skipped', reason))).toBe(false);
    expect(isWithdrawn(row(1, 'pending'))).toBe(false);
    expect(isWithdrawn(row(1, 'sent'))).toBe(false);
    expect(isWithdrawn(row(1, 'failed', 'refund_failed'))).toBe(false);
  });
});

/**
 * Refunds of one charge, some of which fail some time after they are made, as Stripe tells of
 * them: for each, refund.created (pending when it will fail) and the charge's amount_refunded as
 * it was then; for each that fails, refund.failed. Delivered in any order, with mailer passes
 * anywhere among them and one at the end.
 */
const storyArb = fc
  .array(fc.record({ amount: fc.constantFrom(100, 200, 300, 500), fails: fc.boolean(), failsAfter: fc.integer({ min: 1, max: 40 }) }), { minLength: 1, maxLength: 3 })
  .chain((refunds) =>
    fc.record({
      refunds: fc.constant(refunds),
      keys: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3 * refunds.length, maxLength: 3 * refunds.length }),
      passes: fc.array(fc.nat({ max: 3 * refunds.length }), { maxLength: 3 }),
    }),
  );

type Story = { refunds: Array<{ amount: number; fails: boolean; failsAfter: number }>; keys: number[]; passes: number[] };
type Delivery = { created: number } | { level: number } | { failed: number } | 'mail';

function tell(story: Story) {
  const made = story.refunds.map((_, i) => NOW - 1000 + 10 * i);
  const failedAt = story.refunds.map((r, i) => (r.fails ? made[i]! + r.failsAfter : Infinity));
  const stripeAmountAt = (t: number) => story.refunds.reduce((s, r, j) => s + (made[j]! <= t && failedAt[j]! > t ? r.amount : 0), 0);
  const all: Delivery[] = story.refunds.flatMap((r, i): Delivery[] => [{ created: i }, { level: i }, ...(r.fails ? [{ failed: i }] : [])]);
  const deliveries: Delivery[] = all.map((d, i) => ({ d, k: story.keys[i] ?? 0 })).sort((a, b) => a.k - b.k).map((x) => x.d);
  for (const p of [...story.passes].sort((a, b) => b - a)) deliveries.splice(Math.min(p, deliveries.length), 0, 'mail');
  deliveries.push('mail');

  const statusOf = new Map<number, string>();
  let highest = 0;
  let latest = NOW - 2000;
  const now = () =>
    charge(
      highest,
      [...statusOf].map(([i, status]) => refund(`re_${i}`, story.refunds[i]!.amount, { status, createdAt: made[i]! })),
      latest,
    );
  const told = outbox();
  for (const d of deliveries) {
    if (d === 'mail') {
      mail(told, now());
      continue;
    }
    if ('created' in d && statusOf.get(d.created) !== 'failed') statusOf.set(d.created, story.refunds[d.created]!.fails ? 'pending' : 'succeeded');
    if ('failed' in d) statusOf.set(d.failed, 'failed');
    if ('level' in d) {
      highest = Math.max(highest, stripeAmountAt(made[d.level]!));
      latest = Math.max(latest, made[d.level]!);
    }
    apply(told, now());
  }
  const news = story.refunds.reduce((s, r) => s + (r.fails ? 0 : r.amount), 0);
  return { told, news };
}

describe('refunds that fail, told both ways in any order, with the mailer looking at any moment', () => {
  it('no refund that went through is left untold: what went out is at least what was refunded, and nothing waits', () => {
    fc.assert(
      fc.property(storyArb, (story) => {
        const { told, news } = tell(story);
        expect(sentTotal(told)).toBeGreaterThanOrEqual(news);
        expect([...told.values()].filter((t) => t.status === 'pending')).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('when no refund fails, what went out is exactly what was refunded', () => {
    fc.assert(
      fc.property(storyArb, (story) => {
        const { told, news } = tell({ ...story, refunds: story.refunds.map((r) => ({ ...r, fails: false })) });
        expect(sentTotal(told)).toBe(news);
      }),
      { numRuns: 500 },
    );
  });
});

describe('refundNoticeTruth', () => {
  it("a refund's notice holds while the refund is pending or succeeded", () => {
    for (const [status, holds] of [['pending', true], ['succeeded', true], ['failed', false], ['canceled', false]] as const) {
      const truth = refundNoticeTruth({ refund: 're_1' }, charge(300, [refund('re_1', 300, { status })]), new Map());
      expect(truth).toEqual(holds ? { holds: true } : { holds: false, reason: `refund_${status}` });
    }
    expect(refundNoticeTruth({ refund: 're_9' }, charge(300, []), new Map())).toEqual({ holds: false, reason: 'refund_missing' });
  });

  it("a refund awaiting the customer's action neither holds nor is withdrawn: the mailer puts it off", () => {
    const truth = refundNoticeTruth({ refund: 're_1' }, charge(300, [refund('re_1', 300, { status: 'requires_action' })]), new Map());
    expect(truth).toEqual({ holds: false, reason: 'refund_requires_action', awaiting: true });
  });

  it('a level holds unless it lapsed: a refund made by then, no longer news, with no row of its own, has just its amount', () => {
    const told = outbox([[levelSubject(CH, 300), 300]]);
    const subject = { charge: CH, level: 300 };
    expect(refundNoticeTruth(subject, charge(300, []), told)).toEqual({ holds: true });
    expect(refundNoticeTruth(subject, charge(300, [refund('re_1', 300)]), told)).toEqual({ holds: true });
    expect(refundNoticeTruth(subject, charge(300, [refund('re_1', 300, { status: 'failed' })]), told)).toEqual({ holds: false, reason: 'refund_failed' });
    expect(refundNoticeTruth(subject, charge(300, [refund('re_1', 300, { status: 'canceled' })]), told)).toEqual({ holds: false, reason: 'refund_canceled' });
    // Another amount: the level told of a refund not known yet, which may be news.
    expect(refundNoticeTruth(subject, charge(300, [refund('re_1', 100, { status: 'failed' })]), told)).toEqual({ holds: true });
    // Made after the charge's latest event: not in the amount the level told.
    expect(refundNoticeTruth(subject, charge(300, [refund('re_1', 300, { status: 'failed', createdAt: NOW - 5 })]), told)).toEqual({ holds: true });
    // Told by a row of its own: the level never told its money.
    const withOwnRow = new Map([...told, [refundSubject('re_1'), row(300, 'skipped', 'refund_failed')]]);
    expect(refundNoticeTruth(subject, charge(300, [refund('re_1', 300, { status: 'failed' })]), withOwnRow)).toEqual({ holds: true });
  });

  it('a failed refund lapses one level of its amount: none once a level was withdrawn for it, the lowest first otherwise', () => {
    const failed = [refund('re_1', 300, { status: 'failed' })];
    const two = new Map([
      [levelSubject(CH, 300), row(300)],
      [levelSubject(CH, 600), row(300)],
    ]);
    expect(refundNoticeTruth({ charge: CH, level: 300 }, charge(600, failed), two)).toEqual({ holds: false, reason: 'refund_failed' });
    expect(refundNoticeTruth({ charge: CH, level: 600 }, charge(600, failed), two)).toEqual({ holds: true });
    two.set(levelSubject(CH, 300), row(300, 'skipped', 'refund_failed'));
    expect(refundNoticeTruth({ charge: CH, level: 600 }, charge(600, failed), two)).toEqual({ holds: true });
    // A level that went out stays told, and lapses none in its place.
    two.set(levelSubject(CH, 300), row(300, 'sent'));
    expect(refundNoticeTruth({ charge: CH, level: 600 }, charge(600, failed), two)).toEqual({ holds: false, reason: 'refund_failed' });
  });
});
