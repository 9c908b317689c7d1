import type { DataSource, EntityManager } from 'typeorm';
import type { NoticeKind } from '../billing/notice-kinds';
import { isOverdue } from '../billing/overdue';
import { reviewDunning } from '../consume/outbox-effects';
import { lockInvoiceSkipLocked } from '../db/invoice-rows';

export interface SweepResult {
  flagged: number;
  reviewed: number;
}

const BATCH = 200;

/**
 * Stripe sends nothing when a due date passes, so time alone must turn `overdue` on and bring
 * dunning reminders due. Candidates come from two partial indexes (open and past due but not yet
 * flagged; next dunning check reached), so the sweep stays cheap at any table size. Rows a
 * consumer holds are skipped: its merge does the same work.
 */
export async function sweepInvoices(ds: DataSource, nowSeconds: number, enabled: ReadonlySet<NoticeKind>): Promise<SweepResult> {
  const result: SweepResult = { flagged: 0, reviewed: 0 };
  let afterId = '0';
  for (;;) {
    const ids: { id: string; stripe_invoice_id: string }[] = await ds.query(
      `SELECT id, stripe_invoice_id FROM (
         SELECT id, stripe_invoice_id FROM invoices
          WHERE status = 'open' AND NOT overdue AND due_date < to_timestamp($1)
            AND amount_remaining_cents > 0 AND deleted_at IS NULL
         UNION
         SELECT id, stripe_invoice_id FROM invoices WHERE next_dunning_at <= to_timestamp($1)
       ) c
       WHERE id > $2::bigint
       ORDER BY id
       LIMIT ${BATCH}`,
      [nowSeconds, afterId],
    );
    if (ids.length === 0) return result;
    afterId = ids[ids.length - 1]!.id;
    await ds.transaction(async (db) => {
      for (const { stripe_invoice_id } of ids) {
        if (await reviewInvoice(db, stripe_invoice_id, nowSeconds, enabled)) result.flagged++;
        result.reviewed++;
      }
    });
    if (ids.length < BATCH) return result;
  }
}

/** Returns true when the invoice became overdue. */
async function reviewInvoice(db: EntityManager, stripeInvoiceId: string, nowSeconds: number, enabled: ReadonlySet<NoticeKind>): Promise<boolean> {
  const invoice = await lockInvoiceSkipLocked(db, stripeInvoiceId);
  if (invoice === null) return false;
  const overdue = isOverdue(invoice, nowSeconds);
  if (overdue !== invoice.overdue) {
    await db.query(`UPDATE invoices SET overdue = $2, updated_at = now() WHERE stripe_invoice_id = $1`, [stripeInvoiceId, overdue]);
  }
  await reviewDunning(db, { ...invoice, overdue }, nowSeconds, enabled);
  return overdue && !invoice.overdue;
}
