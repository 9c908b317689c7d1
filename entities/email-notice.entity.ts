import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { NoticeKind, NoticeStatus } from '../src/billing/notice-kinds';
import { bigintAsNumber } from './transformers';

/** The outbox: one row per (invoice, kind, sequence, subject), written in the same transaction as the merge. */
@Entity({ name: 'email_notices' })
@Unique('email_notices_once', ['stripeInvoiceId', 'kind', 'sequence', 'subject'])
@Check(
  'email_notices_kind_check',
  `kind IN ('invoice_issued', 'payment_failed', 'invoice_paid', 'due_soon', 'overdue', 'overdue_reminder', 'invoice_voided', 'refund_issued')`,
)
@Check('email_notices_status_check', `status IN ('pending', 'sent', 'failed', 'skipped')`)
@Check('email_notices_subject_check', `(kind = 'refund_issued') = (subject <> '')`)
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

  @Column({
    type: 'text',
    default: '',
    comment: 'what a refund notice is about: refund:<refund id>, or charge:<charge id>:<amount_refunded it rose to>; empty for notices about the invoice itself',
  })
  subject!: string;

  @Column({
    name: 'amount_cents',
    type: 'bigint',
    nullable: true,
    transformer: bigintAsNumber,
    comment: "the amount a refund notice tells was refunded, in the charge's currency; null for other kinds",
  })
  amountCents!: number | null;

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
