import type { InvoiceState } from '../billing/invoice-state';
import type { NoticeKind } from '../billing/notice-kinds';
import { parseEmailAddress } from './address';

export type Delivery =
  | { action: 'send' }
  | { action: 'skip'; reason: string }
  | { action: 'defer'; untilSeconds: number };

export type NoticeStatus = 'pending' | 'sent' | 'failed' | 'skipped';

/**
 * Whether a notice is still true at the moment it would go out. The outbox row was queued from an
 * earlier state; events may have overtaken it (paid before the "pay now" email left).
 */
export function decideDelivery(
  kind: NoticeKind,
  invoice: InvoiceState | null,
  issuedStatus: NoticeStatus | null,
  nowSeconds: number,
): Delivery {
  if (invoice === null) return { action: 'skip', reason: 'invoice_missing' };
  if (invoice.deletedAt !== null) return { action: 'skip', reason: 'invoice_deleted' };
  const settled = invoice.status === 'paid' ? 'already_paid' : invoice.status === 'void' ? 'already_void' : null;
  switch (kind) {
    case 'invoice_issued':
    case 'payment_failed':
      return settled ? { action: 'skip', reason: settled } : { action: 'send' };
    case 'due_soon':
    case 'overdue':
    case 'overdue_reminder':
      if (settled) return { action: 'skip', reason: settled };
      return invoice.status === 'open' && invoice.amountRemainingCents > 0
        ? { action: 'send' }
        : { action: 'skip', reason: `no_longer_due (${invoice.status})` };
    case 'invoice_paid':
      return invoice.status === 'paid' ? { action: 'send' } : { action: 'skip', reason: `not_paid (${invoice.status})` };
    case 'invoice_voided':
      if (invoice.status !== 'void') return { action: 'skip', reason: `not_void (${invoice.status})` };
      // Tell the customer about a void only if they were told about the invoice; wait while that
      // email is still on its way.
      if (issuedStatus === 'sent') return { action: 'send' };
      if (issuedStatus === 'pending') return { action: 'defer', untilSeconds: nowSeconds + 60 };
      return { action: 'skip', reason: 'never_issued_to_customer' };
  }
}

export interface Contact {
  invoiceEmail: string | null;
  primaryEmail: string | null;
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
