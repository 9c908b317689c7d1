import type { EntityManager } from 'typeorm';
import { planDunning } from '../billing/dunning';
import type { InvoiceState } from '../billing/invoice-state';
import type { NoticeKind } from '../billing/notice-kinds';
import { noticesForChange } from '../billing/notices';
import { lastDunning, queueNotices, setNextDunning } from '../db/notice-outbox';
import type { AfterMerge, InvoiceChange } from './process-event';

/** Queues the dunning notice that applies now (if any) and when to look again. The row is locked. */
export async function reviewDunning(db: EntityManager, invoice: InvoiceState, nowSeconds: number, enabled: ReadonlySet<NoticeKind>): Promise<void> {
  const plan = planDunning(invoice, nowSeconds, await lastDunning(db, invoice.stripeInvoiceId));
  if (plan.notice && enabled.has(plan.notice.kind)) await queueNotices(db, invoice.stripeInvoiceId, [plan.notice], nowSeconds);
  await setNextDunning(db, invoice.stripeInvoiceId, plan.nextCheckAt);
}

const dunnable = (s: InvoiceState | null) => s?.status === 'open' && s.dueDate !== null;
export const needsDunningReview = (c: InvoiceChange): boolean => dunnable(c.previous) || dunnable(c.next);

/** The outbox half of the consumer's transaction: notices commit with the merge or not at all. */
export function outboxEffects(enabled: ReadonlySet<NoticeKind>): AfterMerge {
  return async (db, change, nowSeconds) => {
    const notices = noticesForChange(change.previous, change.next, change.snapshot).filter((n) => enabled.has(n.kind));
    await queueNotices(db, change.next.stripeInvoiceId, notices, nowSeconds);
    if (needsDunningReview(change)) await reviewDunning(db, change.next, nowSeconds, enabled);
  };
}
