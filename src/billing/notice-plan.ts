import { currentStage, planDunning, stageIndex, stageNotice, stageStartsAt } from './dunning';
import type { InvoiceState } from './invoice-state';
import { NEWS_KINDS, type NoticeKind, type NoticeRecord, type NoticeRequest, type PlannedNotice, type RecordedSkip } from './notice-kinds';
import { factTime, noticesForChange, type NoticeEvent } from './notices';

/** What the operator decided about notices (NOTICE_KINDS, NOTICE_MAX_EVENT_AGE_HOURS). */
export interface NoticePolicy {
  enabled: ReadonlySet<NoticeKind>;
  /** A notice about something older than this is recorded as skipped (`stale`). */
  maxAgeSeconds: number;
  /**
   * Whose invoices get emails (NOTICE_ACCOUNTS): every owner's, or those named (`platform` for the
   * platform's own, `acct_…` for a connected account's). Unset: all.
   */
  accounts?: 'all' | ReadonlySet<string>;
}

const NO_KINDS: ReadonlySet<NoticeKind> = new Set();

/**
 * The policy for one owner's invoice: as it is, or with no kind turned on for an owner whose
 * customers hear from someone else (a Standard connected account sends its own emails). Then
 * nothing is written for them, as for a kind turned off; an import's baseline still is.
 */
export function policyFor(policy: NoticePolicy, account: string | null): NoticePolicy {
  const accounts = policy.accounts ?? 'all';
  if (accounts === 'all' || accounts.has(account ?? 'platform')) return policy;
  return { ...policy, enabled: NO_KINDS };
}


interface ChangeOf {
  previous: InvoiceState | null;
  next: InvoiceState;
  /** The event (or API snapshot) behind the change; null for a look at the clock (the sweep). */
  event: NoticeEvent | null;
}

/**
 * `live`: what happens now (an event, a repair of a known row, a sweep); the customer hears of it.
 * `baseline`: a row the processor did not know, read from the API (an import, a row reconcile had
 * to insert). The customer heard of what happened before `baselineAt` (when the run began) from
 * whoever billed before: those notices are recorded as skipped (`imported`), whatever kinds are
 * turned on, so that later notices continue from there and never catch up. What happened after it
 * is news as on the live path.
 */
export type NoticeChange = ChangeOf & ({ mode: 'live' } | { mode: 'baseline'; baselineAt: number });

export interface NoticePlan {
  /** In the order they are to go out: news last, since it may follow another email the same day. */
  notices: PlannedNotice[];
  /** When the sweep must look at the invoice again; undefined: leave it as it is. */
  nextCheckAt?: number | null;
}

const dunnable = (s: InvoiceState | null) => s?.status === 'open' && s.dueDate !== null;

/**
 * Whether a change can bring dunning on or off: it touches an open invoice with a due date. A
 * look at the clock (the sweep) always reviews, so a row it finds also loses a check it no longer needs.
 */
export const needsDunningReview = (c: Pick<ChangeOf, 'previous' | 'next' | 'event'>): boolean =>
  c.event === null || dunnable(c.previous) || dunnable(c.next);

/**
 * Why a notice about something that happened at `at` is only recorded, or null: it goes out.
 * Before a baseline (an import) it is history; older than NOTICE_MAX_EVENT_AGE_HOURS it is stale.
 */
export const recordedSkip = (at: number, baselineAt: number | null, now: number, policy: NoticePolicy): RecordedSkip | null =>
  baselineAt !== null && at <= baselineAt ? 'imported' : now - at > policy.maxAgeSeconds ? 'stale' : null;

/** Whether a notice is written at all: a baseline records every kind, turned on or not, so a kind turned on later sends no catch-up. */
export const isWritten = (kind: NoticeKind, skip: RecordedSkip | null, policy: NoticePolicy): boolean => skip === 'imported' || policy.enabled.has(kind);

/** How the notices planned now read as outbox rows, for the rules that look at the outbox. */
const asRecords = (notices: readonly PlannedNotice[], now: number): NoticeRecord[] =>
  notices.map((n) => ({ kind: n.kind, sequence: n.sequence, status: n.skip === null ? 'pending' : 'skipped', queuedAt: now, sentAt: null }));

/**
 * Every notice a change calls for, and which of them are only recorded. `history` is the
 * invoice's outbox before the change. Pure: the outbox write and its uniqueness make it once.
 */
export function planNotices(change: NoticeChange, history: readonly NoticeRecord[], now: number, policy: NoticePolicy): NoticePlan {
  const { previous, next, event } = change;
  const baselineAt = change.mode === 'baseline' ? change.baselineAt : null;
  const skipAt = (at: number) => recordedSkip(at, baselineAt, now, policy);
  const planned = (n: NoticeRequest, skip: RecordedSkip | null): PlannedNotice | null => (isWritten(n.kind, skip, policy) ? { ...n, skip } : null);

  const fromEvent = (event === null ? [] : noticesForChange(previous, next, event))
    .map((n) => planned(n, skipAt(factTime(n.kind, next, event!))))
    .filter((n): n is PlannedNotice => n !== null);
  const inOrder = (dunning: PlannedNotice[]): PlannedNotice[] => [
    ...fromEvent.filter((n) => !NEWS_KINDS.has(n.kind)),
    ...dunning,
    ...fromEvent.filter((n) => NEWS_KINDS.has(n.kind)),
  ];
  if (!needsDunningReview(change)) return { notices: inOrder([]) };

  // First seen already overdue: one email that says so (the overdue stage's), not the invoice
  // email followed by a reminder the next day.
  const stage = currentStage(next, now);
  const issued = fromEvent.find((n) => n.kind === 'invoice_issued' && n.skip === null);
  if (issued && stage !== null && stage >= 1 && policy.enabled.has(stageNotice(stage).kind)) issued.skip = 'replaced_by_overdue';

  // The news planned now goes out after the reminder, so only the rest counts as the day's email.
  const plan = planDunning(next, now, [...history, ...asRecords(fromEvent.filter((n) => !NEWS_KINDS.has(n.kind)), now)]);
  const dunning = plan.notice && planned(plan.notice, skipAt(stageStartsAt(stageIndex(plan.notice.kind, plan.notice.sequence), next.dueDate!)) === 'imported' ? 'imported' : null);
  return { notices: inOrder(dunning ? [dunning] : []), nextCheckAt: plan.nextCheckAt };
}
