import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Every event the consumer has seen, keyed by Stripe's event id: the log that replays read. */
@Entity({ name: 'stripe_events' })
@Index('stripe_events_invoice_idx', ['stripeInvoiceId', 'created'])
@Index('stripe_events_unprocessed_idx', ['receivedAt'], { where: 'processed_at IS NULL' })
// What a prune still has to visit: processed events that keep their payload.
@Index('stripe_events_prunable_idx', ['processedAt'], { where: 'payload_pruned_at IS NULL AND processed_at IS NOT NULL' })
// A connected account's events (`billing events --account`), newest first.
@Index('stripe_events_account_idx', ['stripeAccountId', 'created'], { where: 'stripe_account_id IS NOT NULL' })
@Check('stripe_events_payload_pruned_check', '(payload IS NULL) = (payload_pruned_at IS NOT NULL)')
@Check('stripe_events_pruned_processed_check', 'payload_pruned_at IS NULL OR processed_at IS NOT NULL')
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

  /** The event as received; null once pruned for retention (payloadPrunedAt says when). */
  @Column({ type: 'jsonb', nullable: true })
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

  @Column({
    name: 'payload_pruned_at',
    type: 'timestamptz',
    nullable: true,
    comment: 'when the payload was removed for retention (payload is then null); the row stays so a late duplicate is still known',
  })
  payloadPrunedAt!: Date | null;

  @Column({ name: 'stripe_account_id', type: 'text', nullable: true, comment: "the connected account (Connect) the row belongs to; null for the platform's own" })
  stripeAccountId!: string | null;
}
