import fc from 'fast-check';
import type { InvoiceState } from '../../src/billing/invoice-state';
import { DUNNING_KINDS, type NoticeRecord, type NoticeRequest } from '../../src/billing/notice-kinds';
import { planDunning, stageIndex, type DunningPlan } from '../../src/billing/dunning';
import { openInvoiceState } from '../support/invoice-state';
import { record } from '../support/notice-policy';

const DAY = 86_400;
const HOUR = 3_600;
const MINUTE = 60;
const DUE = Date.UTC(2027, 0, 15) / 1000;

// Literal values rather than the module's constants, so that a changed constant fails here.
const DUE_SOON_AT = DUE - 3 * DAY;
const OVERDUE_AT = DUE + 1 * DAY;
const reminderAt = (k: number) => DUE + 1 * DAY + 7 * k * DAY;

function invoice(overrides: Partial<InvoiceState> = {}): InvoiceState {
  return openInvoiceState(DUE, { stripeInvoiceId: 'in_1DunningTest01', stripeCustomerId: 'cus_Dunning', lastEventId: 'evt_1Dunning', ...overrides });
}

const dueSoon: NoticeRequest = { kind: 'due_soon', sequence: 0 };
const overdue: NoticeRequest = { kind: 'overdue', sequence: 0 };
const reminder = (k: number): NoticeRequest => ({ kind: 'overdue_reminder', sequence: k });
/** The outbox after one notice, sent when it was queued. */
const last = (n: NoticeRequest, at: number): NoticeRecord[] => [record(n, at)];
const NONE: NoticeRecord[] = [];
const NEVER: DunningPlan = { notice: null, nextCheckAt: null };

describe('planDunning: which invoices are dunned at all', () => {
  const anyTime = [DUE - 10 * DAY, DUE_SOON_AT, DUE, OVERDUE_AT, reminderAt(1), reminderAt(20)];
  it.each<[string, Partial<InvoiceState>]>([
    ['a draft', { status: 'draft' }],
    ['a paid invoice', { status: 'paid', amountPaidCents: 1000, amountRemainingCents: 0 }],
    ['a void invoice', { status: 'void' }],
    ['an uncollectible invoice', { status: 'uncollectible' }],
    ['an open invoice with nothing left to pay', { amountPaidCents: 1000, amountRemainingCents: 0 }],
    ['a deleted invoice', { deletedAt: DUE - 29 * DAY }],
    ['an invoice without a due date', { dueDate: null }],
    ['a charge_automatically invoice (Stripe gives it no due date)', { collectionMethod: 'charge_automatically', dueDate: null }],
  ])('%s: never, and nothing to look at again', (_label, overrides) => {
    for (const now of anyTime) {
      expect(planDunning(invoice(overrides), now, NONE)).toEqual(NEVER);
      expect(planDunning(invoice(overrides), now, last(overdue, OVERDUE_AT))).toEqual(NEVER);
    }
  });

  it('still dunns a partly paid open invoice', () => {
    expect(planDunning(invoice({ amountPaidCents: 999, amountRemainingCents: 1 }), OVERDUE_AT, NONE).notice).toEqual(overdue);
  });
});

describe('planDunning: stages by time, with nothing sent before', () => {
  // A send_invoice invoice finalized well before the reminder window.
  it.each<[string, number, NoticeRequest | null, number]>([
    ['long before the window', DUE - 30 * DAY, null, DUE_SOON_AT],
    ['one second before due-3d', DUE_SOON_AT - 1, null, DUE_SOON_AT],
    ['exactly at due-3d', DUE_SOON_AT, dueSoon, OVERDUE_AT],
    ['at the due moment itself', DUE, dueSoon, OVERDUE_AT],
    // Past the due moment "due today" is no longer true, and overdue waits out a grace day.
    ['one second past the due moment', DUE + 1, null, OVERDUE_AT],
    ['one second before due+1d', OVERDUE_AT - 1, null, OVERDUE_AT],
    ['exactly at due+1d', OVERDUE_AT, overdue, reminderAt(1)],
    ['one second before due+8d', reminderAt(1) - 1, overdue, reminderAt(1)],
    ['exactly at due+8d', reminderAt(1), reminder(1), reminderAt(2)],
    ['exactly at due+15d', reminderAt(2), reminder(2), reminderAt(3)],
    ['one second before due+22d', reminderAt(3) - 1, reminder(2), reminderAt(3)],
    ['a year late', DUE + 365 * DAY, reminder(52), reminderAt(53)],
  ])('%s', (_label, now, notice, nextCheckAt) => {
    expect(planDunning(invoice(), now, NONE)).toEqual({ notice, nextCheckAt });
  });
});

describe('planDunning: due_soon only for send_invoice invoices finalized before the window', () => {
  it.each<[string, Partial<InvoiceState>, NoticeRequest | null]>([
    ['finalized one second before the window', { finalizedAt: DUE_SOON_AT - 1 }, dueSoon],
    ['finalized exactly as the window opens', { finalizedAt: DUE_SOON_AT }, null],
    ['finalized inside the window', { finalizedAt: DUE - HOUR }, null],
    ['finalized after its due date', { finalizedAt: DUE + HOUR }, null],
    ['charge_automatically with a due date', { collectionMethod: 'charge_automatically' }, null],
  ])('%s', (_label, overrides, atWindow) => {
    const inv = invoice(overrides);
    expect(planDunning(inv, DUE_SOON_AT, NONE).notice).toEqual(atWindow);
    expect(planDunning(inv, DUE - 1, NONE).notice).toEqual(atWindow);
  });

  it('an invoice finalized inside the window first hears at due+1d, with overdue', () => {
    const inv = invoice({ finalizedAt: DUE - 2 * DAY });
    // Its invoice_issued email already gave the due date, so it waits for overdue.
    expect(planDunning(inv, DUE - 2 * DAY, NONE)).toEqual({ notice: null, nextCheckAt: OVERDUE_AT });
    expect(planDunning(inv, OVERDUE_AT - 1, NONE)).toEqual({ notice: null, nextCheckAt: OVERDUE_AT });
    expect(planDunning(inv, OVERDUE_AT, NONE)).toEqual({ notice: overdue, nextCheckAt: reminderAt(1) });
    expect(planDunning(inv, reminderAt(1), last(overdue, OVERDUE_AT))).toEqual({ notice: reminder(1), nextCheckAt: reminderAt(2) });
  });
});

describe('planDunning: what was sent before', () => {
  it.each<[string, number, NoticeRecord[], DunningPlan]>([
    ['due_soon sent, same stage still', DUE, last(dueSoon, DUE_SOON_AT), { notice: null, nextCheckAt: OVERDUE_AT }],
    ['due_soon sent, overdue now due', OVERDUE_AT, last(dueSoon, DUE_SOON_AT), { notice: overdue, nextCheckAt: reminderAt(1) }],
    ['overdue sent, a week on', reminderAt(1), last(overdue, OVERDUE_AT), { notice: reminder(1), nextCheckAt: reminderAt(2) }],
    ['overdue sent, days later', OVERDUE_AT + 3 * DAY, last(overdue, OVERDUE_AT), { notice: null, nextCheckAt: reminderAt(1) }],
    ['reminder 1 sent, reminder 2 due', reminderAt(2), last(reminder(1), reminderAt(1)), { notice: reminder(2), nextCheckAt: reminderAt(3) }],
    // An outage: after overdue nothing ran for weeks; only the current stage goes out.
    ['overdue sent, found again four weeks on', reminderAt(4) + HOUR, last(overdue, OVERDUE_AT), { notice: reminder(4), nextCheckAt: reminderAt(5) }],
    // A later stage already sent (e.g. the due date moved out): never step back.
    ['a later stage already sent', reminderAt(1) + HOUR, last(reminder(2), reminderAt(1) - 2 * DAY), { notice: null, nextCheckAt: reminderAt(2) }],
  ])('%s', (_label, now, previous, plan) => {
    expect(planDunning(invoice(), now, previous)).toEqual(plan);
  });

  describe('at most one per day', () => {
    // due_soon discovered late, one hour before overdue is due.
    const sentAt = OVERDUE_AT - HOUR;
    const previous = last(dueSoon, sentAt);
    it.each<[string, number, DunningPlan]>([
      ['when overdue becomes due, an hour after due_soon', OVERDUE_AT, { notice: null, nextCheckAt: sentAt + DAY }],
      ['86399 s after due_soon', sentAt + DAY - 1, { notice: null, nextCheckAt: sentAt + DAY }],
      ['exactly 86400 s after due_soon', sentAt + DAY, { notice: overdue, nextCheckAt: reminderAt(1) }],
    ])('%s', (_label, now, plan) => {
      expect(planDunning(invoice(), now, previous)).toEqual(plan);
    });

    it('holds between reminders too', () => {
      const at = reminderAt(2) - 2 * HOUR;
      expect(planDunning(invoice(), reminderAt(2), last(reminder(1), at))).toEqual({ notice: null, nextCheckAt: at + DAY });
      expect(planDunning(invoice(), at + DAY, last(reminder(1), at)).notice).toEqual(reminder(2));
    });
  });
});

describe('planDunning: nextCheckAt is a promise that nothing is missed before it', () => {
  const arbInvoice = fc.record({
    collectionMethod: fc.constantFrom('send_invoice', 'charge_automatically'),
    finalizedOffset: fc.oneof(fc.constantFrom(-3 * DAY - 1, -3 * DAY, 0), fc.integer({ min: -40 * DAY, max: 10 * DAY })),
  });
  const arbLast = fc.option(
    fc.record({
      stage: fc.integer({ min: 0, max: 12 }),
      offset: fc.integer({ min: -5 * DAY, max: 90 * DAY }),
    }),
  );

  it('no notice becomes due before nextCheckAt, and nextCheckAt lies in the future', () => {
    fc.assert(
      fc.property(arbInvoice, arbLast, fc.integer({ min: -10 * DAY, max: 90 * DAY }), fc.double({ min: 0, max: 1, noNaN: true }), (i, l, nowOffset, frac) => {
        const inv = invoice({ collectionMethod: i.collectionMethod, finalizedAt: DUE + i.finalizedOffset });
        const now = DUE + nowOffset;
        const previous: NoticeRecord[] =
          l === null ? NONE : last(l.stage === 0 ? dueSoon : l.stage === 1 ? overdue : reminder(l.stage - 1), Math.min(now, DUE + l.offset));
        const plan = planDunning(inv, now, previous);
        expect(plan.nextCheckAt).not.toBeNull();
        expect(plan.nextCheckAt!).toBeGreaterThan(now);
        // After queueing, the new notice is in the outbox the next look reads.
        const after = plan.notice === null ? previous : [...previous, record(plan.notice, now, 'pending')];
        const probe = now + 1 + Math.floor(frac * (plan.nextCheckAt! - now - 1));
        if (probe < plan.nextCheckAt!) expect(planDunning(inv, probe, after).notice).toBeNull();
        expect(planDunning(inv, plan.nextCheckAt! - 1, after).notice).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('planDunning: a sweep every N minutes over 60 days', () => {
  interface Queued {
    at: number;
    stage: number;
  }

  /** Calls planDunning at each tick, or (gated) only once nextCheckAt is reached, as the real sweep does. */
  function simulate(inv: InvoiceState, start: number, every: number, end: number, gated: boolean): Queued[] {
    const queued: Queued[] = [];
    const previous: NoticeRecord[] = [];
    let checkAt: number | null = start;
    for (let now = start; now <= end; now += every) {
      if (gated && (checkAt === null || now < checkAt)) continue;
      const plan = planDunning(inv, now, previous);
      if (plan.notice) {
        expect(DUNNING_KINDS.has(plan.notice.kind)).toBe(true);
        previous.push(record(plan.notice, now));
        queued.push({ at: now, stage: stageIndex(plan.notice.kind, plan.notice.sequence) });
      }
      checkAt = plan.nextCheckAt;
    }
    return queued;
  }

  const stageStart = (stage: number, due: number) => (stage === 0 ? due - 3 * DAY : due + DAY + (stage - 1) * 7 * DAY);

  const scenario = fc.record({
    every: fc.integer({ min: 5 * MINUTE, max: 3 * DAY }),
    // Due relative to finalization; the 7–8 days in the past put a reminder boundary inside the
    // first day, where the gap rule must hold it back.
    dueOffset: fc.oneof(
      fc.integer({ min: -40 * DAY, max: 45 * DAY }),
      fc.integer({ min: -8 * DAY + 1, max: -7 * DAY }),
      fc.constantFrom(3 * DAY, 3 * DAY + 1, -DAY, 0),
    ),
    collectionMethod: fc.constantFrom('send_invoice', 'charge_automatically'),
    finalizedAt: fc.integer({ min: DUE - 100 * DAY, max: DUE }),
  });

  it('never two within a day, never a lower or repeated stage, every boundary reached unless the gap delays it', () => {
    fc.assert(
      fc.property(scenario, ({ every, dueOffset, collectionMethod, finalizedAt }) => {
        const due = finalizedAt + dueOffset;
        const inv = invoice({ finalizedAt, dueDate: due, collectionMethod });
        const end = finalizedAt + 60 * DAY;
        const queued = simulate(inv, finalizedAt, every, end, false);
        const ticks = (t: number) => finalizedAt + Math.ceil((t - finalizedAt) / every) * every;

        for (let i = 1; i < queued.length; i++) {
          expect(queued[i]!.at - queued[i - 1]!.at).toBeGreaterThanOrEqual(DAY);
          expect(queued[i]!.stage).toBeGreaterThan(queued[i - 1]!.stage);
        }

        const firstStage = collectionMethod === 'send_invoice' && finalizedAt < due - 3 * DAY ? 0 : 1;
        // due_soon holds until the due moment; overdue starts a day after it.
        const windowEnd = (stage: number) => (stage === 0 ? due + 1 : stageStart(stage + 1, due));
        const currentAt = (t: number) => {
          if (t <= due) return firstStage === 0 && t >= due - 3 * DAY ? 0 : null;
          if (t < due + DAY) return null;
          let s = 1;
          while (stageStart(s + 1, due) <= t) s++;
          return s;
        };
        // Found late (finalized after stages began): only the stage current at the first look.
        if (stageStart(firstStage, due) < finalizedAt && currentAt(finalizedAt) !== null) {
          expect(queued[0]).toEqual({ at: finalizedAt, stage: currentAt(finalizedAt) });
        }

        for (let stage = firstStage; stageStart(stage, due) <= end; stage++) {
          const boundary = stageStart(stage, due);
          if (boundary < finalizedAt) continue;
          const before = queued.filter((q) => q.at < boundary);
          const gapEnds = before.length > 0 ? before[before.length - 1]!.at + DAY : -Infinity;
          const expectedAt = ticks(Math.max(boundary, gapEnds));
          if (expectedAt > end) continue;
          if (expectedAt < windowEnd(stage)) {
            expect(queued).toContainEqual({ at: expectedAt, stage });
          } else {
            // The gap carried it past the next boundary: that stage replaces it, never both.
            expect(queued.some((q) => q.stage === stage)).toBe(false);
          }
        }

        // Looking only when nextCheckAt says so must queue exactly the same notices.
        expect(simulate(inv, finalizedAt, every, end, true)).toEqual(queued);
      }),
      { numRuns: 300 },
    );
  });

  it('a charge_automatically invoice without a due date is never dunned, however long it stays open', () => {
    const inv = invoice({ collectionMethod: 'charge_automatically', dueDate: null });
    expect(simulate(inv, DUE - 30 * DAY, HOUR, DUE + 60 * DAY, false)).toEqual([]);
  });

  it('a daily sweep from finalization queues due_soon, overdue and then a reminder a week', () => {
    const start = DUE - 30 * DAY;
    const queued = simulate(invoice({ finalizedAt: start }), start, DAY, DUE + 30 * DAY, false);
    expect(queued).toEqual([
      { at: DUE_SOON_AT, stage: 0 },
      { at: OVERDUE_AT, stage: 1 },
      { at: reminderAt(1), stage: 2 },
      { at: reminderAt(2), stage: 3 },
      { at: reminderAt(3), stage: 4 },
      { at: reminderAt(4), stage: 5 },
    ]);
  });
});
