import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Every event the consumer has seen, keyed by Stripe's event id: the log that replays read. */
@Entity({ name: 'stripe_events' })
@Index('stripe_events_invoice_idx', ['stripeInvoiceId', 'created'])
@Index('stripe_events_unprocessed_idx', ['receivedAt'], { where: 'processed_at IS NULL' })
export class StripeEventEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'stripe_events_pkey' })
  id!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ name: 'stripe_invoice_id', type: 'text', nullable: true })
  stripeInvoiceId!: string | null;

  @Column({ type: 'timestamptz' })
  created!: Date;

  @Column({ type: 'boolean' })
  livemode!: boolean;

  @Column({ name: 'api_version', type: 'text', nullable: true })
  apiVersion!: string | null;

  @Column({ type: 'jsonb' })
  payload!: unknown;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt!: Date;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt!: Date | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Set when a failing message used its last receive and SQS moved it to the DLQ. */
  @Column({ name: 'dead_lettered_at', type: 'timestamptz', nullable: true })
  deadLetteredAt!: Date | null;
}
