import type { InvoiceState } from './invoice-state';
import type { NoticeRequest } from './notice-kinds';
import type { InvoiceSnapshot } from './snapshot';

/** Not yet issued: no row, a deletion stub, or a draft. Status never returns here once it leaves. */
const unissued = (s: InvoiceState | null) => s === null || s.currency === null || s.status === 'draft';

/**
 * The event-driven notices a merge calls for. Each fires on a transition that happens once in
 * any order of events (status only climbs), and the outbox is unique per (invoice, kind,
 * sequence), so duplicates and re-orderings queue nothing twice.
 */
export function noticesForChange(previous: InvoiceState | null, next: InvoiceState, snapshot: InvoiceSnapshot): NoticeRequest[] {
  if (next.deletedAt !== null || next.status === 'draft' || next.currency === null) return [];
  const out: NoticeRequest[] = [];
  // Queued even when the first event we see is already paid or void: the mailer then records it
  // as skipped with the reason, so every issued invoice has exactly one invoice_issued row.
  if (unissued(previous)) out.push({ kind: 'invoice_issued', sequence: 0 });
  if (snapshot.eventType === 'invoice.payment_failed' && snapshot.fields) {
    out.push({ kind: 'payment_failed', sequence: snapshot.fields.attemptCount });
  }
  if (previous?.status !== 'paid' && next.status === 'paid') out.push({ kind: 'invoice_paid', sequence: 0 });
  if (previous?.status !== 'void' && next.status === 'void') out.push({ kind: 'invoice_voided', sequence: 0 });
  return out;
}
