import { isKnownStatus, type InvoiceState } from './invoice-state';
import type { NoticeKind, NoticeRequest } from './notice-kinds';
import type { InvoiceSnapshot } from './snapshot';

/**
 * Not yet issued as far as the customer heard: no row, a deletion stub, a draft, or a status this
 * code does not know (nothing is announced about it, so the invoice email waits for a known one).
 */
const unissued = (s: InvoiceState | null) => s === null || s.currency === null || s.status === 'draft' || !isKnownStatus(s.status);

/** What the event-driven notices read of the event that caused a change. */
export type NoticeEvent = Pick<InvoiceSnapshot, 'eventType' | 'eventCreated' | 'fields'>;

/**
 * The event-driven notices a merge calls for. Each fires on a transition that happens once in
 * any order of events (status only climbs), and the outbox is unique per (invoice, kind,
 * sequence), so duplicates and re-orderings queue nothing twice.
 */
export function noticesForChange(previous: InvoiceState | null, next: InvoiceState, event: NoticeEvent): NoticeRequest[] {
  if (next.deletedAt !== null || next.status === 'draft' || next.currency === null || !isKnownStatus(next.status)) return [];
  const out: NoticeRequest[] = [];
  // Queued even when the first event we see is already paid or void: the mailer then records it
  // as skipped with the reason, so every issued invoice has its invoice_issued row.
  if (unissued(previous)) out.push({ kind: 'invoice_issued', sequence: 0 });
  if (event.eventType === 'invoice.payment_failed' && event.fields) {
    out.push({ kind: 'payment_failed', sequence: event.fields.attemptCount });
  }
  if (previous?.status !== 'paid' && next.status === 'paid') out.push({ kind: 'invoice_paid', sequence: 0 });
  if (previous?.status !== 'void' && next.status === 'void') out.push({ kind: 'invoice_voided', sequence: 0 });
  return out;
}

/**
 * When what a notice tells happened at Stripe: the status transition it announces, else the
 * event. A notice is news only while this is recent.
 */
export function factTime(kind: NoticeKind, next: InvoiceState, event: NoticeEvent): number {
  switch (kind) {
    case 'invoice_issued':
      return next.finalizedAt ?? event.eventCreated;
    case 'invoice_paid':
      return next.paidAt ?? event.eventCreated;
    case 'invoice_voided':
      return next.voidedAt ?? event.eventCreated;
    default:
      return event.eventCreated;
  }
}
