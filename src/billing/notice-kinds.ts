export const NOTICE_KINDS = [
  'invoice_issued',
  'payment_failed',
  'invoice_paid',
  'due_soon',
  'overdue',
  'overdue_reminder',
  'invoice_voided',
  'refund_issued',
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** The time-based reminders; at most one of them per invoice per day. */
export const DUNNING_KINDS: ReadonlySet<NoticeKind> = new Set(['due_soon', 'overdue', 'overdue_reminder']);

/**
 * News the customer must have when it happens: these may follow another email about the same
 * invoice on the same day. Every other kind waits a day after the last email about its invoice.
 */
export const NEWS_KINDS: ReadonlySet<NoticeKind> = new Set(['payment_failed', 'invoice_paid', 'invoice_voided', 'refund_issued']);

/**
 * One outbox entry to create; (invoice, kind, sequence, subject) is unique, so queueing twice is
 * harmless. Its subject is empty: it is about the invoice itself (refund notices name what they are
 * about, see notice-refunds.ts).
 */
export interface NoticeRequest {
  kind: NoticeKind;
  /** 0 unless the kind repeats: the attempt count for payment_failed, the week for overdue_reminder. */
  sequence: number;
}

export type NoticeStatus = 'pending' | 'sent' | 'failed' | 'skipped';

/**
 * Why a notice was recorded without being sent. `imported`: the invoice came from the API (an
 * import, or a row reconcile inserted) and the customer heard of it before, elsewhere; `stale`:
 * what it tells happened longer ago than NOTICE_MAX_EVENT_AGE_HOURS; `replaced_by_overdue`: an
 * invoice first seen already overdue gets the overdue email instead of the invoice email.
 */
export type RecordedSkip = 'imported' | 'stale' | 'replaced_by_overdue';

/** A notice to write to the outbox: to be sent (skip null), or only recorded as skipped. */
export interface PlannedNotice extends NoticeRequest {
  skip: RecordedSkip | null;
}

/** An outbox row of one invoice as the planner reads it. Times are unix seconds. */
export interface NoticeRecord extends NoticeRequest {
  status: NoticeStatus;
  queuedAt: number;
  sentAt: number | null;
}

/** An outbox row with what the mailer reads besides: its id, why it was not sent, to whom it went. */
export interface OutboxNotice extends NoticeRecord {
  id: string;
  lastError: string | null;
  recipient: string | null;
}
