import type { Contact } from '../billing/contact';
import type { InvoiceState } from '../billing/invoice-state';
import { EMAIL_GAP } from '../billing/dunning';
import { DUNNING_KINDS, NEWS_KINDS, type NoticeKind, type OutboxNotice } from '../billing/notice-kinds';
import type { RefundTruth } from '../billing/notice-refunds';
import { parseEmailAddress } from '../billing/email-address';

export type Delivery =
  | { action: 'send' }
  | { action: 'skip'; reason: string }
  | { action: 'defer'; untilSeconds: number };

/** The rest of the outbox of the invoice whose notice is about to go out, and what its payment adds. */
export interface OutboxContext {
  others: readonly OutboxNotice[];
  /** invoice_paid: the receipt of the charge that paid it, as far as it is known; without it the receipt goes as it is. */
  receipt?: ReceiptFacts;
  /** refund_issued: whether what it tells still holds. */
  refund?: RefundTruth;
}

/** What the mailer knows of the charge behind a receipt (invoice_paid). */
export interface ReceiptFacts {
  /** The receipt link of the succeeded charge linked to the invoice (a web URL), or null. */
  url: string | null;
  /** Whether a charge may still come: none is linked yet, and the invoice was paid by one. */
  awaited: boolean;
  /** How long a receipt waits for its charge: RECEIPT_WAIT_SECONDS after it was queued. */
  waitUntil: number;
}

/** A refund notice waits this long for the receipt (invoice_paid) queued before it, then looks again. */
const REFUND_BEHIND_RECEIPT_SECONDS = 60;

/** A refund notice whose refund awaits the customer's action looks again this much later. */
export const REFUND_ACTION_RECHECK_SECONDS = 3_600;

/** Whether the customer has heard of the invoice: from us, or (an imported invoice) from whoever billed before. */
function toldOfInvoice(others: readonly OutboxNotice[]): 'yes' | 'soon' | 'no' {
  const about = others.filter((o) => o.kind !== 'invoice_voided');
  if (about.some((o) => o.status === 'sent' || (o.status === 'skipped' && o.lastError === 'imported'))) return 'yes';
  return about.some((o) => o.status === 'pending') ? 'soon' : 'no';
}

/**
 * When a notice that is not news may go out: a day after the last email sent about the invoice.
 * The planner queues news after the reminder it comes with, and mailers send an invoice's
 * notices one at a time in queue order (claimDueNotice), so this holds back only what an outage
 * of the mail server piled up.
 */
function gapEnds(ctx: OutboxContext): number | null {
  let last: number | null = null;
  for (const o of ctx.others) if (o.status === 'sent' && o.sentAt !== null) last = Math.max(last ?? -Infinity, o.sentAt);
  return last === null ? null : last + EMAIL_GAP;
}

function truth(kind: NoticeKind, invoice: InvoiceState, ctx: OutboxContext, nowSeconds: number): Delivery {
  const settled = invoice.status === 'paid' ? 'already_paid' : invoice.status === 'void' ? 'already_void' : null;
  const due = invoice.status === 'open' && invoice.amountRemainingCents > 0;
  switch (kind) {
    case 'invoice_issued':
    case 'payment_failed':
      return settled ? { action: 'skip', reason: settled } : { action: 'send' };
    case 'due_soon':
      if (settled) return { action: 'skip', reason: settled };
      if (!due) return { action: 'skip', reason: `no_longer_due (${invoice.status})` };
      // "Due today" after the due moment would not be true; the overdue notices take over.
      return invoice.dueDate !== null && nowSeconds > invoice.dueDate ? { action: 'skip', reason: 'past_due' } : { action: 'send' };
    case 'overdue':
    case 'overdue_reminder':
      if (settled) return { action: 'skip', reason: settled };
      return due ? { action: 'send' } : { action: 'skip', reason: `no_longer_due (${invoice.status})` };
    case 'invoice_paid': {
      if (invoice.status !== 'paid') return { action: 'skip', reason: `not_paid (${invoice.status})` };
      // The charge event usually comes within seconds of invoice.paid; its receipt link is worth a short wait.
      const r = ctx.receipt;
      return r && r.url === null && r.awaited && nowSeconds < r.waitUntil ? { action: 'defer', untilSeconds: r.waitUntil } : { action: 'send' };
    }
    case 'refund_issued': {
      const refund = ctx.refund ?? { holds: false, reason: 'refund_unknown' };
      if (!refund.holds) {
        // Skipped, its row could never be queued again: the refund, once it goes ahead, would go untold.
        return 'awaiting' in refund && refund.awaiting ? { action: 'defer', untilSeconds: nowSeconds + REFUND_ACTION_RECHECK_SECONDS } : { action: 'skip', reason: refund.reason };
      }
      // Never ahead of the receipt of the payment it gives back.
      const receiptPending = ctx.others.some((o) => o.kind === 'invoice_paid' && o.status === 'pending');
      return receiptPending ? { action: 'defer', untilSeconds: nowSeconds + REFUND_BEHIND_RECEIPT_SECONDS } : { action: 'send' };
    }
    case 'invoice_voided': {
      if (invoice.status !== 'void') return { action: 'skip', reason: `not_void (${invoice.status})` };
      // Tell the customer about a void only if they heard of the invoice; wait while that email is on its way.
      const told = toldOfInvoice(ctx.others);
      if (told === 'yes') return { action: 'send' };
      if (told === 'soon') return { action: 'defer', untilSeconds: nowSeconds + 60 };
      return { action: 'skip', reason: 'never_issued_to_customer' };
    }
  }
}

/**
 * Whether a notice is still true at the moment it would go out, and whether it may go out now.
 * The outbox row was queued from an earlier state; events may have overtaken it (paid before the
 * "pay now" email left).
 */
export function decideDelivery(kind: NoticeKind, invoice: InvoiceState | null, ctx: OutboxContext, nowSeconds: number): Delivery {
  if (invoice === null) return { action: 'skip', reason: 'invoice_missing' };
  if (invoice.deletedAt !== null) return { action: 'skip', reason: 'invoice_deleted' };
  const decision = truth(kind, invoice, ctx, nowSeconds);
  if (decision.action !== 'send' || NEWS_KINDS.has(kind)) return decision;
  const until = gapEnds(ctx);
  return until !== null && nowSeconds < until ? { action: 'defer', untilSeconds: until } : decision;
}

/** Which reminder about the invoice this is for `recipient`: one more than the reminders actually sent to them. */
export function reminderNumber(others: readonly OutboxNotice[], recipient: string): number {
  return 1 + others.filter((o) => DUNNING_KINDS.has(o.kind) && o.status === 'sent' && o.recipient === recipient).length;
}

/** The customer's invoice contact, else the address on the invoice, else the primary contact. */
export function chooseRecipient(contact: Contact | null, invoice: InvoiceState): string | null {
  for (const candidate of [contact?.invoiceEmail, invoice.customerEmail, contact?.primaryEmail]) {
    const address = parseEmailAddress(candidate);
    if (address !== null) return address;
  }
  return null;
}

/** Exponential from 1 s after the first failure, capped. */
export function retryDelaySeconds(attempts: number, maxBackoffSeconds: number): number {
  return Math.min(2 ** Math.max(0, attempts - 1), maxBackoffSeconds);
}
