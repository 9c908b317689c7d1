import { planDunning, type LastDunning } from '../billing/dunning';
import type { NoticeKind, NoticeRequest } from '../billing/notice-kinds';
import { noticesForChange } from '../billing/notices';
import { dunningNoticesOf, queueNoticesOfMany, setNextDunningOfMany, type DunningNotice } from '../db/notice-outbox';
import { needsDunningReview } from './outbox-effects';
import type { AfterMergeBatch } from './process-event';

/** What lastDunning would read: the latest by created_at, then id; a notice queued in this batch is the newest. */
function latest(notices: readonly DunningNotice[]): LastDunning | null {
  let best: DunningNotice | null = null;
  for (const n of notices) if (best === null || n.at > best.at || (n.at === best.at && n.id > best.id)) best = n;
  return best && { kind: best.kind, sequence: best.sequence, at: best.at };
}

/**
 * outboxEffects for all the changes of a batch, in three statements: the dunning notices of the
 * invoices reviewed are read once, each change is then applied in order in memory exactly as
 * outboxEffects would apply it against the table (queueing what it queues, skipping what is
 * already there, reading the last dunning notice including those just queued), and the notices
 * and next-check times are written at the end. Only the invoices' rows locked by the batch are
 * read or written, so nobody else can change what the memory holds meanwhile.
 */
export function outboxEffectsBatch(enabled: ReadonlySet<NoticeKind>): AfterMergeBatch {
  return async (db, changes, nowSeconds) => {
    const reviewed = [...new Set(changes.filter(needsDunningReview).map((c) => c.next.stripeInvoiceId))];
    const dunning = await dunningNoticesOf(db, reviewed);
    const queued: Array<NoticeRequest & { stripeInvoiceId: string }> = [];
    const nextCheck = new Map<string, number | null>();
    let order = 0n;
    for (const c of changes) {
      const id = c.next.stripeInvoiceId;
      for (const n of noticesForChange(c.previous, c.next, c.snapshot)) if (enabled.has(n.kind)) queued.push({ ...n, stripeInvoiceId: id });
      if (!needsDunningReview(c)) continue;
      const known = dunning.get(id) ?? [];
      dunning.set(id, known);
      const plan = planDunning(c.next, nowSeconds, latest(known));
      const notice = plan.notice;
      if (notice && enabled.has(notice.kind)) {
        queued.push({ ...notice, stripeInvoiceId: id });
        // Kept as is when the outbox already has it (ON CONFLICT DO NOTHING); else it is the newest row.
        if (!known.some((k) => k.kind === notice.kind && k.sequence === notice.sequence)) {
          known.push({ ...notice, at: nowSeconds, id: BigInt(Number.MAX_SAFE_INTEGER) + ++order });
        }
      }
      nextCheck.set(id, plan.nextCheckAt);
    }
    await queueNoticesOfMany(db, queued, nowSeconds);
    await setNextDunningOfMany(db, nextCheck);
  };
}
