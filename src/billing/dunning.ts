import type { InvoiceState } from './invoice-state';
import type { NoticeKind, NoticeRequest } from './notice-kinds';

const DAY = 86_400;
export const DUE_SOON_LEAD = 3 * DAY;
export const OVERDUE_AFTER = 1 * DAY;
export const REMINDER_EVERY = 7 * DAY;
/** At most one dunning email per invoice per day, whatever the stages say. */
export const DUNNING_GAP = 1 * DAY;

/** Stages in order: due_soon is 0, overdue is 1, the k-th weekly reminder is 1 + k. */
export function stageIndex(kind: NoticeKind, sequence: number): number {
  if (kind === 'due_soon') return 0;
  if (kind === 'overdue') return 1;
  return 1 + sequence;
}

function stageNotice(index: number): NoticeRequest {
  if (index === 0) return { kind: 'due_soon', sequence: 0 };
  if (index === 1) return { kind: 'overdue', sequence: 0 };
  return { kind: 'overdue_reminder', sequence: index - 1 };
}

function stageStart(index: number, due: number): number {
  if (index === 0) return due - DUE_SOON_LEAD;
  return due + OVERDUE_AFTER + (index - 1) * REMINDER_EVERY;
}

export interface LastDunning {
  kind: NoticeKind;
  sequence: number;
  /** When it was queued, unix seconds. */
  at: number;
}

export interface DunningPlan {
  /** The one notice that applies now, or null. */
  notice: NoticeRequest | null;
  /** When the invoice must be looked at again; null when no reminder can ever apply. */
  nextCheckAt: number | null;
}

/**
 * Which dunning notice applies now. Only the current stage is ever queued, so an invoice found
 * late (an outage, or one that arrives long overdue) gets one reminder, not a burst of missed ones.
 */
export function planDunning(invoice: InvoiceState, nowSeconds: number, last: LastDunning | null): DunningPlan {
  const due = invoice.dueDate;
  const eligible =
    invoice.status === 'open' && invoice.deletedAt === null && invoice.amountRemainingCents > 0 && due !== null;
  if (!eligible) return { notice: null, nextCheckAt: null };

  // due_soon is for send_invoice invoices issued before the reminder window; one issued inside it
  // already announced its due date in the invoice_issued email.
  const firstStage =
    invoice.collectionMethod === 'send_invoice' && (invoice.finalizedAt === null || invoice.finalizedAt < due - DUE_SOON_LEAD) ? 0 : 1;
  if (nowSeconds < stageStart(firstStage, due)) return { notice: null, nextCheckAt: stageStart(firstStage, due) };

  let current = firstStage;
  while (stageStart(current + 1, due) <= nowSeconds) current++;
  const nextStageAt = stageStart(current + 1, due);

  if (last !== null) {
    const lastIndex = stageIndex(last.kind, last.sequence);
    const gapEnds = last.at + DUNNING_GAP;
    if (lastIndex >= current) return { notice: null, nextCheckAt: Math.max(nextStageAt, gapEnds) };
    if (nowSeconds < gapEnds) return { notice: null, nextCheckAt: gapEnds };
  }
  return { notice: stageNotice(current), nextCheckAt: nextStageAt };
}
