import type { InvoiceState } from '../../src/billing/invoice-state';
import type { NoticeRecord, PlannedNotice } from '../../src/billing/notice-kinds';
import { planNotices } from '../../src/billing/notice-plan';
import type { NoticeEvent } from '../../src/billing/notices';
import { openInvoiceState } from '../support/invoice-state';
import { ALL_NOTICES, policyOf, record } from '../support/notice-policy';

const DAY = 86_400;
const HOUR = 3_600;
const DUE = Date.UTC(2027, 0, 15) / 1000;
const reminderAt = (k: number) => DUE + DAY + 7 * k * DAY;

const open = (overrides: Partial<InvoiceState> = {}) => openInvoiceState(DUE, { stripeInvoiceId: 'in_1PlanTest', ...overrides });
const event = (eventType: string, eventCreated: number, attemptCount = 0): NoticeEvent => ({
  eventType,
  eventCreated,
  fields: { attemptCount } as NoticeEvent['fields'],
});

interface Change {
  previous?: InvoiceState | null;
  next: InvoiceState;
  event?: NoticeEvent | null;
}

/** A live change (an event, a sweep when `event` is null). */
function plan(change: Change, now: number, history: NoticeRecord[] = [], policy = ALL_NOTICES) {
  return planNotices({ previous: null, event: event('invoice.finalized', now), ...change, mode: 'live' }, history, now, policy);
}

const pending = (kind: PlannedNotice['kind'], sequence = 0): PlannedNotice => ({ kind, sequence, skip: null });
const skipped = (kind: PlannedNotice['kind'], skip: PlannedNotice['skip'], sequence = 0): PlannedNotice => ({ kind, sequence, skip });

describe('planNotices: live changes', () => {
  it('a newly finalized invoice gets its invoice email, and dunning is scheduled', () => {
    const now = DUE - 30 * DAY;
    expect(plan({ next: open({ finalizedAt: now }) }, now)).toEqual({ notices: [pending('invoice_issued')], nextCheckAt: DUE - 3 * DAY });
  });

  it('one finalized before the reminder window but first seen two days before its due date: the invoice email only, which gives the due date', () => {
    // Net-4½-day terms: finalized 2½ days ago (news still), due in 2 days.
    const now = DUE - 2 * DAY;
    const p = plan({ next: open({ finalizedAt: now - 2.5 * DAY }) }, now);
    expect(p.notices).toEqual([pending('invoice_issued')]);
    expect(p.nextCheckAt).toBe(DUE + DAY);
  });

  it('one finalized long ago and first seen two days before its due date: due_soon alone (the invoice email is old news)', () => {
    const now = DUE - 2 * DAY;
    const p = plan({ next: open({ finalizedAt: DUE - 30 * DAY }), event: event('invoice.updated', now) }, now);
    expect(p.notices).toEqual([skipped('invoice_issued', 'stale'), pending('due_soon')]);
  });

  it('first seen 70 days overdue: one email, which says it is overdue', () => {
    const now = DUE + 70 * DAY;
    const p = plan({ next: open(), event: event('invoice.updated', now) }, now);
    expect(p.notices).toEqual([skipped('invoice_issued', 'stale'), pending('overdue_reminder', 9)]);
    expect(p.nextCheckAt).toBe(reminderAt(10));
  });

  it('first seen overdue while its invoice email would still be news (a long NOTICE_MAX_EVENT_AGE_HOURS): the overdue email replaces it', () => {
    const now = DUE + 3 * DAY;
    const p = plan({ next: open() }, now, [], policyOf(ALL_NOTICES.enabled, 365 * DAY));
    expect(p.notices).toEqual([skipped('invoice_issued', 'replaced_by_overdue'), pending('overdue')]);
  });

  it('with the overdue kinds turned off, the invoice email is not replaced', () => {
    const now = DUE + 3 * DAY;
    const p = plan({ next: open() }, now, [], policyOf(['invoice_issued'], 365 * DAY));
    expect(p.notices).toEqual([pending('invoice_issued')]);
  });

  it('first seen in the grace day after its due moment: the invoice email now, overdue a day after it', () => {
    const now = DUE + 2 * HOUR;
    const p = plan({ next: open({ finalizedAt: DUE - 2 * DAY }) }, now);
    expect(p.notices).toEqual([pending('invoice_issued')]);
    expect(p.nextCheckAt).toBe(DUE + DAY);
    const later = plan({ previous: open(), next: open(), event: null }, DUE + DAY, [record({ kind: 'invoice_issued', sequence: 0 }, now)]);
    expect(later).toEqual({ notices: [], nextCheckAt: now + DAY });
  });

  it('a payment failure is news: it goes out beside the overdue email of an invoice first seen overdue', () => {
    const now = DUE + 3 * DAY;
    const p = plan({ next: open({ attemptCount: 1 }), event: event('invoice.payment_failed', now, 1) }, now);
    // In the order they go out: the overdue email first, the news (which may follow it) after.
    expect(p.notices).toEqual([skipped('invoice_issued', 'stale'), pending('overdue'), pending('payment_failed', 1)]);
  });

  it('a payment made days ago and only now seen is recorded as stale; the receipt is not sent', () => {
    const now = DUE;
    const paidAt = now - 5 * DAY;
    const p = plan({ previous: open(), next: open({ status: 'paid', amountPaidCents: 1000, amountRemainingCents: 0, paidAt }), event: event('invoice.paid', paidAt) }, now);
    expect(p.notices).toEqual([skipped('invoice_paid', 'stale')]);
    expect(p.nextCheckAt).toBeNull();
  });

  it('the age limit is inclusive: exactly NOTICE_MAX_EVENT_AGE_HOURS old is still sent, a second more is not', () => {
    const limit = ALL_NOTICES.maxAgeSeconds;
    const paid = (paidAt: number) => open({ status: 'paid', amountPaidCents: 1000, amountRemainingCents: 0, paidAt });
    expect(plan({ previous: open(), next: paid(DUE - limit), event: event('invoice.paid', DUE - limit) }, DUE).notices).toEqual([pending('invoice_paid')]);
    expect(plan({ previous: open(), next: paid(DUE - limit - 1), event: event('invoice.paid', DUE - limit - 1) }, DUE).notices).toEqual([
      skipped('invoice_paid', 'stale'),
    ]);
  });

  it('a reminder waits a day after any email about the invoice, news included', () => {
    const sentAt = reminderAt(1) - 2 * HOUR;
    const history = [record({ kind: 'overdue', sequence: 0 }, DUE + DAY), record({ kind: 'payment_failed', sequence: 2 }, sentAt)];
    const sweep = plan({ previous: open(), next: open(), event: null }, reminderAt(1), history);
    expect(sweep).toEqual({ notices: [], nextCheckAt: sentAt + DAY });
    expect(plan({ previous: open(), next: open(), event: null }, sentAt + DAY, history).notices).toEqual([pending('overdue_reminder', 1)]);
  });

  it('measures that day from when an email went out, not from when it was queued', () => {
    const queuedAt = reminderAt(1) - 3 * DAY;
    const history: NoticeRecord[] = [{ kind: 'overdue', sequence: 0, status: 'sent', queuedAt, sentAt: reminderAt(1) - HOUR }];
    expect(plan({ previous: open(), next: open(), event: null }, reminderAt(1), history)).toEqual({ notices: [], nextCheckAt: reminderAt(1) - HOUR + DAY });
  });

  it('skipped and failed notices end their stage but are no email: they do not hold the next one back', () => {
    const history: NoticeRecord[] = [{ ...record({ kind: 'overdue', sequence: 0 }, reminderAt(1) - HOUR, 'skipped') }];
    expect(plan({ previous: open(), next: open(), event: null }, reminderAt(1), history).notices).toEqual([pending('overdue_reminder', 1)]);
    expect(plan({ previous: open(), next: open(), event: null }, DUE + 2 * DAY, history)).toEqual({ notices: [], nextCheckAt: reminderAt(1) });
  });

  it('a look at the clock always reviews dunning, so a row no longer dunned loses its next check', () => {
    const paid = open({ status: 'paid', amountPaidCents: 1000, amountRemainingCents: 0, paidAt: DUE });
    expect(plan({ previous: paid, next: paid, event: null }, DUE + 2 * DAY)).toEqual({ notices: [], nextCheckAt: null });
  });

  it('only the enabled kinds are planned', () => {
    const now = DUE + 3 * DAY;
    expect(plan({ next: open({ finalizedAt: now }) }, now, [], policyOf(['invoice_paid'])).notices).toEqual([]);
  });
});

describe('planNotices: a baseline (import, rows reconcile inserts)', () => {
  const baseline = (next: InvoiceState, now: number, baselineAt = now, policy = ALL_NOTICES) =>
    planNotices({ previous: null, next, event: event('import', now), mode: 'baseline', baselineAt }, [], now, policy);

  it('records an open invoice 40 days overdue with its current stage, and schedules the next reminder for its day', () => {
    const now = DUE + 40 * DAY;
    expect(baseline(open(), now)).toEqual({
      notices: [skipped('invoice_issued', 'imported'), skipped('overdue_reminder', 'imported', 5)],
      nextCheckAt: reminderAt(6),
    });
    // Then, on that day, the sweep sends reminder 6, the next step.
    const history = [record({ kind: 'invoice_issued', sequence: 0 }, now, 'skipped'), record({ kind: 'overdue_reminder', sequence: 5 }, now, 'skipped')];
    expect(plan({ previous: open(), next: open(), event: null }, reminderAt(6) - 1, history)).toEqual({ notices: [], nextCheckAt: reminderAt(6) });
    expect(plan({ previous: open(), next: open(), event: null }, reminderAt(6), history).notices).toEqual([pending('overdue_reminder', 6)]);
  });

  it('records a paid invoice as issued and paid, and sends nothing', () => {
    const now = DUE + 40 * DAY;
    const paid = open({ status: 'paid', amountPaidCents: 1000, amountRemainingCents: 0, paidAt: now - HOUR });
    expect(baseline(paid, now)).toEqual({ notices: [skipped('invoice_issued', 'imported'), skipped('invoice_paid', 'imported')] });
  });

  it('records every kind, also those turned off, so a kind turned on later does not catch up', () => {
    const now = DUE + 40 * DAY;
    expect(baseline(open(), now, now, policyOf(['invoice_paid'])).notices).toEqual([skipped('invoice_issued', 'imported'), skipped('overdue_reminder', 'imported', 5)]);
  });

  it('what happened after the baseline began is news: a payment made while the import ran gets its receipt', () => {
    const began = DUE - 10 * DAY;
    const paid = open({ status: 'paid', amountPaidCents: 1000, amountRemainingCents: 0, paidAt: began + 30 });
    expect(baseline(paid, began + 60, began)).toEqual({ notices: [skipped('invoice_issued', 'imported'), pending('invoice_paid')] });
    // An invoice finalized while it ran gets its invoice email, and due_soon is scheduled.
    const fresh = open({ finalizedAt: began + 10 });
    expect(baseline(fresh, began + 60, began)).toEqual({ notices: [pending('invoice_issued')], nextCheckAt: DUE - 3 * DAY });
  });

  it('a draft is recorded with nothing', () => {
    expect(baseline(open({ status: 'draft', finalizedAt: null, number: null }), DUE)).toEqual({ notices: [] });
  });
});
