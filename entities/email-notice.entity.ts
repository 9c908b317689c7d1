import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** The outbox: one row per (invoice, kind, sequence), written in the same transaction as the merge. */
@Entity({ name: 'email_notices' })
@Unique('email_notices_once', ['stripeInvoiceId', 'kind', 'sequence'])
export class EmailNoticeEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'stripe_invoice_id', type: 'text' })
  stripeInvoiceId!: string;

  @Column({ type: 'text' })
  kind!: string;

  @Column({ type: 'integer', default: 0 })
  sequence!: number;

  @Column({ type: 'text', nullable: true })
  recipient!: string | null;

  @Column({ type: 'text', default: 'pending' })
  status!: string;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'message_id', type: 'text', nullable: true })
  messageId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
