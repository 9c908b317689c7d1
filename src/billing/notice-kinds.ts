export const NOTICE_KINDS = [
  'invoice_issued',
  'payment_failed',
  'invoice_paid',
  'due_soon',
  'overdue',
  'overdue_reminder',
  'invoice_voided',
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** The time-based reminders; at most one of them per invoice per day. */
export const DUNNING_KINDS: ReadonlySet<NoticeKind> = new Set(['due_soon', 'overdue', 'overdue_reminder']);

/** One outbox entry to create; (invoice, kind, sequence) is unique, so queueing twice is harmless. */
export interface NoticeRequest {
  kind: NoticeKind;
  /** 0 unless the kind repeats: the attempt count for payment_failed, the week for overdue_reminder. */
  sequence: number;
}
