import type { InvoiceState } from './invoice-state';
import { DUNNING_KINDS, type NoticeKind, type NoticeRecord, type NoticeRequest } from './notice-kinds';

const DAY = 86_400;
export const DUE_SOON_LEAD = 3 * DAY;
export const OVERDUE_AFTER = 1 * DAY;
export const REMINDER_EVERY = 7 * DAY;
/** At most one email per invoice per day, but for news (NEWS_KINDS). */
export const EMAIL_GAP = 1 * DAY;

/** Stages in order: due_soon is 0, overdue is 1, the k-th weekly reminder is 1 + k. */
export function stageIndex(kind: NoticeKind, sequence: number): number {
  if (kind === 'due_soon') return 0;
  if (kind === 'overdue') return 1;
  return 1 + sequence;
}

export function stageNotice(index: number): NoticeRequest {
  if (index === 0) return { kind: 'due_soon', sequence: 0 };
  if (index === 1) return { kind: 'overdue', sequence: 0 };
  return { kind: 'overdue_reminder', sequence: index - 1 };
}

/** When stage `index` (1 and up) begins for a due date. */
function overdueStageStart(index: number, due: number): number {
  return due + OVERDUE_AFTER + (index - 1) * REMINDER_EVERY;
}

/** When a stage begins: due_soon three days before the due moment, the others after it. */
export function stageStartsAt(index: number, dueDate: number): number {
  return index === 0 ? dueDate - DUE_SOON_LEAD : overdueStageStart(index, dueDate);
}

const dunnable = (i: InvoiceState): i is InvoiceState & { dueDate: number } =>
  i.status === 'open' && i.deletedAt === null && i.amountRemainingCents > 0 && i.dueDate !== null;

/**
 * due_soon is for send_invoice invoices finalized before the reminder window; one finalized inside
 * it announced its due date in its own email.
 */
function hasDueSoon(i: InvoiceState & { dueDate: number }): boolean {
  return i.collectionMethod === 'send_invoice' && (i.finalizedAt === null || i.finalizedAt < i.dueDate - DUE_SOON_LEAD);
}

/**
 * The dunning stage that applies at `now`, or null. due_soon runs from three days before the due
 * moment until it passes (after that it would not be true); the first day after it is a grace
 * day; overdue starts a day after the due moment and a reminder every week after that.
 */
export function currentStage(invoice: InvoiceState, now: number): number | null {
  if (!dunnable(invoice)) return null;
  const due = invoice.dueDate;
  if (now <= due) return hasDueSoon(invoice) && now >= due - DUE_SOON_LEAD ? 0 : null;
  if (now < due + OVERDUE_AFTER) return null;
  return 1 + Math.floor((now - due - OVERDUE_AFTER) / REMINDER_EVERY);
}

/** When the next stage after `now` begins (the invoice must be dunnable). */
function nextStageStart(invoice: InvoiceState & { dueDate: number }, now: number): number {
  const due = invoice.dueDate;
  if (hasDueSoon(invoice) && now < due - DUE_SOON_LEAD) return due - DUE_SOON_LEAD;
  if (now < due + OVERDUE_AFTER) return due + OVERDUE_AFTER;
  return overdueStageStart(1 + currentStage(invoice, now)!, due);
}

const emailed = (r: NoticeRecord) => r.status === 'pending' || r.status === 'sent';

/**
 * The highest stage the invoice's outbox has dealt with: a dunning notice in any status (sent,
 * skipped or failed, it is not queued again), and an invoice email queued inside the due_soon
 * window, which gave the due date already.
 */
export function stageReached(history: readonly NoticeRecord[], dueDate: number): number {
  let reached = -1;
  for (const r of history) {
    if (DUNNING_KINDS.has(r.kind)) reached = Math.max(reached, stageIndex(r.kind, r.sequence));
    else if (r.kind === 'invoice_issued' && emailed(r) && r.queuedAt >= dueDate - DUE_SOON_LEAD) reached = Math.max(reached, 0);
  }
  return reached;
}

/** When the customer last got (or is about to get) an email about this invoice; null when never. */
export function lastEmailAt(history: readonly NoticeRecord[]): number | null {
  let last: number | null = null;
  for (const r of history) if (emailed(r)) last = Math.max(last ?? -Infinity, r.sentAt ?? r.queuedAt);
  return last;
}

export interface DunningPlan {
  /** The one notice that applies now, or null. */
  notice: NoticeRequest | null;
  /** When the invoice must be looked at again; null when no reminder can ever apply. */
  nextCheckAt: number | null;
}

/**
 * Which dunning notice applies now, given the invoice's outbox. Only the current stage is ever
 * queued, so an invoice found late (an outage, or one that arrives long overdue) gets one
 * reminder, not a burst of missed ones; and none within a day of the last email about it.
 */
export function planDunning(invoice: InvoiceState, now: number, history: readonly NoticeRecord[]): DunningPlan {
  if (!dunnable(invoice)) return { notice: null, nextCheckAt: null };
  const next = nextStageStart(invoice, now);
  const current = currentStage(invoice, now);
  if (current === null) return { notice: null, nextCheckAt: next };
  const last = lastEmailAt(history);
  const gapEnds = last === null ? -Infinity : last + EMAIL_GAP;
  if (stageReached(history, invoice.dueDate) >= current) return { notice: null, nextCheckAt: Math.max(next, gapEnds) };
  if (now < gapEnds) return { notice: null, nextCheckAt: gapEnds };
  return { notice: stageNotice(current), nextCheckAt: next };
}
