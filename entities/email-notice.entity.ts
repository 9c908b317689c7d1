import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { NoticeKind, NoticeStatus } from '../src/billing/notice-kinds';

/** The outbox: one row per (invoice, kind, sequence), written in the same transaction as the merge. */
@Entity({ name: 'email_notices' })
@Unique('email_notices_once', ['stripeInvoiceId', 'kind', 'sequence'])
@Check(
  'email_notices_kind_check',
  `kind IN ('invoice_issued', 'payment_failed', 'invoice_paid', 'due_soon', 'overdue', 'overdue_reminder', 'invoice_voided')`,
)
@Check('email_notices_status_check', `status IN ('pending', 'sent', 'failed', 'skipped')`)
// The mailer's claim: only pending notices, oldest due first.
@Index('email_notices_pending_idx', ['nextAttemptAt', 'id'], { where: `status = 'pending'` })
export class EmailNoticeEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'email_notices_pkey' })
  id!: string;

  @Column({ name: 'stripe_invoice_id', type: 'text' })
  stripeInvoiceId!: string;

  @Column({ type: 'text' })
  kind!: NoticeKind;

  /** 0 unless the kind repeats: the attempt count for payment_failed, the week for overdue_reminder. */
  @Column({ type: 'integer', default: 0 })
  sequence!: number;

  @Column({ type: 'text', nullable: true })
  recipient!: string | null;

  @Column({ type: 'text', default: 'pending' })
  status!: NoticeStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'message_id', type: 'text', nullable: true })
  messageId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
