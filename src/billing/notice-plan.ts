import { currentStage, planDunning, stageNotice } from './dunning';
import type { InvoiceState } from './invoice-state';
import { NEWS_KINDS, type NoticeKind, type NoticeRecord, type PlannedNotice, type RecordedSkip } from './notice-kinds';
import { factTime, noticesForChange, type NoticeEvent } from './notices';

/** What the operator decided about notices (NOTICE_KINDS, NOTICE_MAX_EVENT_AGE_HOURS). */
export interface NoticePolicy {
  enabled: ReadonlySet<NoticeKind>;
  /** A notice about something older than this is recorded as skipped (`stale`). */
  maxAgeSeconds: number;
}

/**
 * `live`: what happens now (an event, a repair of a known row, a sweep); the customer hears of it.
 * `baseline`: the row comes from the API (an import, a row reconcile had to insert); the customer
 * heard of the invoice before, elsewhere: everything it implies is recorded as skipped (`imported`)
 * so that later notices continue from there, never catch up.
 */
export type NoticeMode = 'live' | 'baseline';

export interface NoticeChange {
  previous: InvoiceState | null;
  next: InvoiceState;
  /** The event (or API snapshot) behind the change; null for a look at the clock (the sweep). */
  event: NoticeEvent | null;
  mode: NoticeMode;
}

export interface NoticePlan {
  notices: PlannedNotice[];
  /** When the sweep must look at the invoice again; undefined: leave it as it is. */
  nextCheckAt?: number | null;
}

const dunnable = (s: InvoiceState | null) => s?.status === 'open' && s.dueDate !== null;

/**
 * Whether a change can bring dunning on or off: it touches an open invoice with a due date. A
 * look at the clock (the sweep) always reviews, so a row it finds also loses a check it no longer needs.
 */
export const needsDunningReview = (c: Pick<NoticeChange, 'previous' | 'next' | 'event'>): boolean =>
  c.event === null || dunnable(c.previous) || dunnable(c.next);

/** How the notices planned now read as outbox rows, for the rules that look at the outbox. */
const asRecords = (notices: readonly PlannedNotice[], now: number): NoticeRecord[] =>
  notices.map((n) => ({ kind: n.kind, sequence: n.sequence, status: n.skip === null ? 'pending' : 'skipped', queuedAt: now, sentAt: null }));

/**
 * Every notice a change calls for, and which of them are only recorded. `history` is the
 * invoice's outbox before the change. Pure: the outbox write and its uniqueness make it once.
 */
export function planNotices(change: NoticeChange, history: readonly NoticeRecord[], now: number, policy: NoticePolicy): NoticePlan {
  const { previous, next, event, mode } = change;
  const stale = (kind: NoticeKind) => event !== null && now - factTime(kind, next, event) > policy.maxAgeSeconds;
  const skipOf = (kind: NoticeKind): RecordedSkip | null => (mode === 'baseline' ? 'imported' : stale(kind) ? 'stale' : null);
  const notices: PlannedNotice[] = (event === null ? [] : noticesForChange(previous, next, event))
    .filter((n) => policy.enabled.has(n.kind))
    .map((n) => ({ ...n, skip: skipOf(n.kind) }));
  if (!needsDunningReview(change)) return { notices };

  // First seen already overdue: one email that says so (the overdue stage's), not the invoice
  // email followed by a reminder the next day.
  const issued = notices.find((n) => n.kind === 'invoice_issued' && n.skip === null);
  const stage = currentStage(next, now);
  if (issued && stage !== null && stage >= 1 && policy.enabled.has(stageNotice(stage).kind)) issued.skip = 'replaced_by_overdue';

  // News planned now goes out after the reminder (NEWS_KINDS may follow another email), so only
  // the rest counts as the day's email here.
  const now_ = asRecords(notices.filter((n) => !NEWS_KINDS.has(n.kind)), now);
  const plan = planDunning(next, now, [...history, ...now_]);
  if (plan.notice === null || !policy.enabled.has(plan.notice.kind)) return { notices, nextCheckAt: plan.nextCheckAt };
  if (mode === 'live') return { notices: [...notices, { ...plan.notice, skip: null }], nextCheckAt: plan.nextCheckAt };
  // An import records the stage a newly found invoice is in, so dunning continues from the next
  // one; on a row already known it leaves the stage to the sweep, which looks at once.
  if (previous === null) return { notices: [...notices, { ...plan.notice, skip: 'imported' }], nextCheckAt: plan.nextCheckAt };
  return { notices, nextCheckAt: now };
}
