import type { EntityManager } from 'typeorm';
import type { Config } from '../config';
import type { NoticeRecord } from '../billing/notice-kinds';
import { needsDunningReview, planNotices, policyFor, type NoticeChange, type NoticePolicy } from '../billing/notice-plan';
import { noticeHistoryOf, recordNotices, setNextDunningOfMany, type InvoiceNotice } from '../db/notice-outbox';
import { paymentNoticeEffects, type PaymentNoticeEffects } from './payment-notice-effects';

/**
 * Runs in the transaction that wrote the changes (their rows are locked by it), so notices
 * commit with the rows or not at all. Changes are in the order they happened; several of one
 * invoice see each other's notices.
 */
export interface NoticeEffects {
  (db: EntityManager, changes: readonly NoticeChange[], nowSeconds: number): Promise<{ queued: number; skipped: number }>;
  /** The same policy's notices about an invoice's money (refunds), which the money kinds' changes call for. */
  readonly payments: PaymentNoticeEffects;
}

/**
 * The outbox half of every write path (consumer, sweep, import, reconcile), in three statements
 * whatever the number of changes: the outboxes of the invoices that dunning looks at are read
 * once, each change is planned in order against them (the notices planned so far included), and
 * the notices and next-check times are written at the end. Says how many new outbox rows are
 * to be sent and how many only record what was not.
 */
export function noticeEffects(policy: NoticePolicy): NoticeEffects {
  const invoiceNotices = async (db: EntityManager, changes: readonly NoticeChange[], nowSeconds: number) => {
    const history: Map<string, NoticeRecord[]> = await noticeHistoryOf(db, [...new Set(changes.filter(needsDunningReview).map((c) => c.next.stripeInvoiceId))]);
    const writes: InvoiceNotice[] = [];
    const nextCheck = new Map<string, number | null>();
    for (const change of changes) {
      const id = change.next.stripeInvoiceId;
      const known: NoticeRecord[] = history.get(id) ?? [];
      history.set(id, known);
      const plan = planNotices(change, known, nowSeconds, policyFor(policy, change.next.stripeAccountId));
      for (const n of plan.notices) {
        writes.push({ ...n, stripeInvoiceId: id });
        // The outbox keeps the first row of a (kind, sequence); so does what the next change reads.
        if (!known.some((k) => k.kind === n.kind && k.sequence === n.sequence)) {
          known.push({ kind: n.kind, sequence: n.sequence, status: n.skip === null ? 'pending' : 'skipped', queuedAt: nowSeconds, sentAt: null });
        }
      }
      if (plan.nextCheckAt !== undefined) nextCheck.set(id, plan.nextCheckAt);
    }
    const written = await recordNotices(db, writes, nowSeconds);
    await setNextDunningOfMany(db, nextCheck);
    return written;
  };
  return Object.assign(invoiceNotices, { payments: paymentNoticeEffects(policy) });
}

/** The notice policy a configuration sets (NOTICE_KINDS, NOTICE_MAX_EVENT_AGE_HOURS, NOTICE_ACCOUNTS). */
export const noticePolicy = (config: Pick<Config, 'mail'>): NoticePolicy => ({
  enabled: config.mail.enabledKinds,
  maxAgeSeconds: config.mail.noticeMaxAgeSeconds,
  accounts: config.mail.noticeAccounts,
});
