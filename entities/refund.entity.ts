import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { bigintAsNumber, epochSeconds } from './transformers';

/** One row per Stripe Refund; finance queries rely on these column names. */
@Entity({ name: 'refunds' })
@Unique('refunds_stripe_refund_id_key', ['stripeRefundId'])
@Check('refunds_currency_check', `currency ~ '^[a-z]{3}$'`)
@Index('refunds_charge_idx', ['stripeChargeId'])
@Index('refunds_payment_intent_idx', ['stripePaymentIntentId'])
export class RefundEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'refunds_pkey' })
  id!: string;

  @Column({ name: 'stripe_refund_id', type: 'text' })
  stripeRefundId!: string;

  @Column({ name: 'stripe_charge_id', type: 'text', nullable: true })
  stripeChargeId!: string | null;

  @Column({ name: 'stripe_payment_intent_id', type: 'text', nullable: true })
  stripePaymentIntentId!: string | null;

  @Column({ name: 'amount_cents', type: 'bigint', transformer: bigintAsNumber })
  amountCents!: number;

  @Column({ type: 'text' })
  currency!: string;

  /** pending, requires_action, succeeded, failed or canceled, as Stripe sent it; Stripe's type allows null. */
  @Column({ type: 'text', nullable: true })
  status!: string | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', transformer: epochSeconds, comment: 'when the object was created at Stripe (its created), not when this row was inserted' })
  createdAt!: number;

  @Column({ type: 'boolean', comment: 'the livemode of the event that carried the refund (a refund object has none)' })
  livemode!: boolean;

  @Column({ name: 'last_event_id', type: 'text' })
  lastEventId!: string;

  @Column({ name: 'last_event_created_at', type: 'timestamptz', transformer: epochSeconds })
  lastEventCreatedAt!: number;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @Column({ name: 'stripe_account_id', type: 'text', nullable: true, comment: "the connected account (Connect) the row belongs to; null for the platform's own" })
  stripeAccountId!: string | null;
}
