import type { NoticeStatus, RecordedSkip } from './notice-kinds';
import { isWritten, recordedSkip, type NoticePolicy } from './notice-plan';

/**
 * # Refund notices
 *
 * A refund of an invoice's charge is told once. Stripe tells of it two ways, in any order: the
 * Refund (`refund.*`, or listed in an older API version's `charge.refunded`), and the charge's
 * `amount_refunded` (all that `charge.refunded` says since API 2022-11-15). Both are applied under
 * the charge's `payment:` lock, so each path sees what the other wrote, and one covers the other:
 *
 * - a refund's row is keyed by its id (`refund:re_…`) and tells its amount;
 * - a rise of `amount_refunded` to a level that the known refunds and the levels told before do
 *   not explain is keyed by the charge and the level (`charge:ch_…:1000`), and tells the rest:
 *   money of refunds not known yet;
 * - a refund that money can explain (the charge's refunds that are news, oldest first, each
 *   taking its amount from what the levels told, while it lasts) gets no row of its own.
 *
 * Refunds of any status explain amount_refunded, since Stripe counted them in it when they were
 * made; only `pending` and `succeeded` ones are news. Every rule is a function of the state (the
 * known refunds, the charge's highest amount_refunded and the time of its latest event, the rows),
 * not of which event came last, so duplicates change nothing and the order of arrival matters only
 * as far as an email, once queued, cannot be taken back.
 *
 * The email of a refund that fails (or is canceled, or awaits action) before it leaves is
 * withdrawn: the mailer skips its row (`refund_failed`…, see refundNoticeTruth). A withdrawn row
 * told no one, so it explains nothing. A level told before its refund was known is matched to that
 * refund by amount (lapsedLevels): from the moment the failure is known the planner counts its
 * money as withdrawn, as the mailer will. So a later refund of the charge (the merchant trying
 * again) is told by its own row, whichever of its two events comes first, and whether the mailer
 * has looked at the level yet or not; the withdrawn row keeps its subject, so it is not queued
 * again. A row that went out before its refund failed stays told: a later refund of no more than
 * it is taken as told by it.
 *
 * The charge row keeps the highest amount_refunded (a refund that fails lowers Stripe's), so a
 * failed refund still explains that much of it. A later refund that takes amount_refunded above
 * that highest level, told by the charge before its refund is known, gets a level row for the
 * rise alone and then a row of its own: the rise is told twice. Telling that apart from a rise
 * the failed refund was part of needs Stripe's amount_refunded of the latest event, which the row
 * does not keep.
 */

/** The refund statuses that are news: the money is on its way back. */
const NEWS_STATUSES: ReadonlySet<string> = new Set(['pending', 'succeeded']);

const isRefundNews = (status: string | null): boolean => status !== null && NEWS_STATUSES.has(status);

/** What a refund notice is about: one refund, or a rise of its charge's amount_refunded to a level. */
export type RefundSubject = { refund: string } | { charge: string; level: number };

export const refundSubject = (refundId: string): string => `refund:${refundId}`;
export const levelSubject = (chargeId: string, level: number): string => `charge:${chargeId}:${level}`;

/** The subject of an outbox row, or null when it is none of the two shapes. */
export function parseRefundSubject(subject: string): RefundSubject | null {
  if (subject.startsWith('refund:') && subject.length > 'refund:'.length) return { refund: subject.slice('refund:'.length) };
  const m = /^charge:(.+):(\d{1,15})$/.exec(subject);
  return m ? { charge: m[1]!, level: Number(m[2]) } : null;
}

/** A refund as the planner reads it. */
export interface RefundFact {
  id: string;
  amountCents: number;
  status: string | null;
  /** Stripe's created: when the refund was made. */
  createdAt: number;
}

/** A charge of an invoice, with every refund of it that is known. */
export interface ChargeRefunds {
  chargeId: string;
  /** The highest amount_refunded Stripe has sent for the charge. */
  amountRefundedCents: number;
  /**
   * When Stripe said so: the time of the charge's latest event (amount_refunded only rises, but
   * for a refund that fails). A refund made after it is not in that amount.
   */
  refundedAt: number;
  refunds: readonly RefundFact[];
}

/**
 * Why the charge is looked at. `live`: an event (or a repair) of the charge, one of its refunds, or
 * its invoice payment; `seenAt` is that event's time, the age of a rise of amount_refunded, which
 * has no time of its own. `baseline`: an API read that inserted the row (see ChangeMode): what
 * happened before `baselineAt` is recorded, not sent.
 */
export type RefundOccasion = { mode: 'live'; seenAt: number } | { mode: 'baseline'; baselineAt: number; seenAt: number };

/** The occasion of a money kind's change: its mode (see ChangeMode), and the time of the event it came in. */
export function reviewOccasion(change: { mode: 'live' } | { mode: 'baseline'; baselineAt: number }, seenAt: number): RefundOccasion {
  return change.mode === 'baseline' ? { mode: 'baseline', baselineAt: change.baselineAt, seenAt } : { mode: 'live', seenAt };
}

export interface PlannedRefundNotice {
  kind: 'refund_issued';
  sequence: 0;
  subject: string;
  /** What the email tells was refunded. */
  amountCents: number;
  skip: RecordedSkip | null;
}

const oldestFirst = (a: RefundFact, b: RefundFact): number => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A refund notice already in the outbox of a charge's invoice. */
export interface ToldRefund {
  /** What it tells was refunded. */
  amountCents: number;
  status: NoticeStatus;
  /** Why it was skipped (or failed to send), as the outbox records it. */
  lastError: string | null;
}

/** The refund notices already in the outbox of a charge's invoice, by subject. */
export type ToldRefunds = ReadonlyMap<string, ToldRefund>;

/** A planned notice as the outbox will hold it: what the planning of the same charge's next review reads. */
export const toldOf = (n: Pick<PlannedRefundNotice, 'amountCents' | 'skip'>): ToldRefund => ({
  amountCents: n.amountCents,
  status: n.skip === null ? 'pending' : 'skipped',
  lastError: n.skip,
});

/**
 * Whether the mailer withdrew the notice: skipped because what it told no longer held (its refund
 * failed, was canceled, awaits action: refundNoticeTruth's `refund_…` reasons). It told no one, so
 * its money explains no refund. A notice skipped as imported or stale stands for a refund that
 * happened.
 */
export const isWithdrawn = (t: ToldRefund): boolean => t.status === 'skipped' && t.lastError !== null && t.lastError.startsWith('refund_');

interface Accounting {
  /** Known refunds with no row of their own that the levels told do not explain: news ones need a row. */
  unexplained: RefundFact[];
  /** What the levels told (but the withdrawn and the lapsed) that no known refund explains yet: refunds still to come. */
  pool: number;
  /** What the known refunds made by the charge's latest event add up to: the part of amount_refunded they explain. */
  known: number;
  /** The levels that told of a refund no longer news, and are not sent (see lapsedLevels): subject → the mailer's reason to skip it. */
  lapsed: Map<string, string>;
}

const HISTORY: ReadonlySet<string> = new Set<RecordedSkip>(['imported', 'stale']);

/** Whether a level row may still go out: neither sent, nor withdrawn, nor recorded as history. */
const mayGoOut = (t: ToldRefund): boolean => t.status !== 'sent' && !isWithdrawn(t) && !(t.status === 'skipped' && HISTORY.has(t.lastError ?? ''));

/**
 * The levels that told of a refund which then failed, was canceled or awaits action. A level is
 * matched to a refund that is no news of exactly its amount, made by the charge's latest event and
 * with no row of its own (a level never tells the money of a refund that has one). The withdrawn
 * levels are matched first, each to the refund it was withdrawn for; each refund left over lapses
 * one level of its amount that may still go out, the lowest first. The mailer skips a lapsed level
 * (refundNoticeTruth) and the planner already counts its money as told to no one, so a refund the
 * planner lets a level explain is never left untold by the mailer skipping that level. Sending a
 * level, or withdrawing it, changes which others lapse in no way (a level sent did not lapse, one
 * withdrawn did): the mailer's settling, which no review follows, keeps the two in step.
 */
function lapsedLevels(charge: ChargeRefunds, told: ToldRefunds, levels: ReadonlyArray<{ subject: string; level: number; told: ToldRefund }>): Map<string, string> {
  const out = new Map<string, string>();
  const gone = new Map<number, RefundFact[]>();
  for (const r of [...charge.refunds].sort(oldestFirst)) {
    if (isRefundNews(r.status) || r.createdAt > charge.refundedAt || told.has(refundSubject(r.id))) continue;
    gone.set(r.amountCents, [...(gone.get(r.amountCents) ?? []), r]);
  }
  for (const [amount, refunds] of gone) {
    const withdrawn = levels.filter((l) => l.told.amountCents === amount && isWithdrawn(l.told)).length;
    const open = levels.filter((l) => l.told.amountCents === amount && mayGoOut(l.told));
    refunds.slice(withdrawn).forEach((r, i) => {
      const l = open[i];
      if (l) out.set(l.subject, `refund_${r.status ?? 'without_status'}`);
    });
  }
  return out;
}

/**
 * Which of the charge's known refunds the money told by its level rows (but the withdrawn and the
 * lapsed) explains. The levels tell of refunds made by the charge's latest event, the oldest first
 * (amount_refunded grows as they are made); so only those refunds take from it, oldest first, and
 * only those explain amount_refunded.
 * A refund that is no news takes nothing: it may have been known, and counted, when the level was
 * told (one that failed at once), and what it would take could be a later refund's. It lapses a
 * level of just its amount instead, if there is one (lapsedLevels).
 */
function account(charge: ChargeRefunds, told: ToldRefunds): Accounting {
  const levels: { subject: string; level: number; told: ToldRefund }[] = [];
  for (const [s, t] of told) {
    const subject = parseRefundSubject(s);
    if (subject && 'level' in subject && subject.charge === charge.chargeId) levels.push({ subject: s, level: subject.level, told: t });
  }
  levels.sort((a, b) => a.level - b.level);
  const lapsed = lapsedLevels(charge, told, levels);
  const pool = levels.reduce((sum, l) => sum + (isWithdrawn(l.told) || lapsed.has(l.subject) ? 0 : l.told.amountCents), 0);
  const out: Accounting = { unexplained: [], pool, known: 0, lapsed };
  for (const r of [...charge.refunds].sort(oldestFirst)) {
    const counted = r.createdAt <= charge.refundedAt;
    if (counted) out.known += r.amountCents;
    if (told.has(refundSubject(r.id))) continue;
    if (counted && isRefundNews(r.status) && r.amountCents <= out.pool) {
      out.pool -= r.amountCents;
    } else {
      out.unexplained.push(r);
    }
  }
  return out;
}

/**
 * The refund notices a charge of an invoice calls for, given what its invoice's outbox already
 * tells of refunds. Pure; looking again at a charge nothing new happened to queues nothing, and
 * the outbox's uniqueness makes each row once.
 */
export function planRefundNotices(charge: ChargeRefunds, told: ToldRefunds, occasion: RefundOccasion, now: number, policy: NoticePolicy): PlannedRefundNotice[] {
  const skipAt = (at: number) => recordedSkip(at, occasion.mode === 'baseline' ? occasion.baselineAt : null, now, policy);
  const wanted = (skip: RecordedSkip | null) => isWritten('refund_issued', skip, policy);

  const { unexplained, pool, known } = account(charge, told);
  const out: PlannedRefundNotice[] = [];
  for (const r of unexplained) {
    if (!isRefundNews(r.status)) continue;
    const skip = skipAt(r.createdAt);
    if (wanted(skip)) out.push({ kind: 'refund_issued', sequence: 0, subject: refundSubject(r.id), amountCents: r.amountCents, skip });
  }
  const untold = charge.amountRefundedCents - known - pool;
  const subject = levelSubject(charge.chargeId, charge.amountRefundedCents);
  if (untold > 0 && !told.has(subject)) {
    // What an API read that inserted the row shows was refunded before it is history.
    const skip = occasion.mode === 'baseline' ? 'imported' : skipAt(occasion.seenAt);
    if (wanted(skip)) out.push({ kind: 'refund_issued', sequence: 0, subject, amountCents: untold, skip });
  }
  return out;
}

/** `awaiting`: the refund waits for the customer's action (`requires_action`); it may still go ahead, and then be news. */
export type RefundTruth = { holds: true } | { holds: false; reason: string; awaiting?: true };

/**
 * Whether a refund notice still holds as it is about to go out. A refund's: it has not failed or
 * been canceled since; while it awaits the customer's action it neither holds nor is withdrawn. A level's: it has not lapsed (see lapsedLevels): no refund made by then that
 * is no longer news (failed, canceled) has just its amount, unless another level was withdrawn for it.
 */
export function refundNoticeTruth(subject: RefundSubject, charge: ChargeRefunds, told: ToldRefunds): RefundTruth {
  if ('refund' in subject) {
    const refund = charge.refunds.find((r) => r.id === subject.refund);
    if (!refund) return { holds: false, reason: 'refund_missing' };
    if (refund.status === 'requires_action') return { holds: false, reason: 'refund_requires_action', awaiting: true };
    return isRefundNews(refund.status) ? { holds: true } : { holds: false, reason: `refund_${refund.status ?? 'without_status'}` };
  }
  const reason = account(charge, told).lapsed.get(levelSubject(subject.charge, subject.level));
  return reason === undefined ? { holds: true } : { holds: false, reason };
}
