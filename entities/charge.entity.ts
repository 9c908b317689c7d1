import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { bigintAsNumber, epochSeconds } from './transformers';

/** One row per Stripe Charge; finance queries rely on these column names. */
@Entity({ name: 'charges' })
@Unique('charges_stripe_charge_id_key', ['stripeChargeId'])
@Check('charges_currency_check', `currency ~ '^[a-z]{3}$'`)
@Index('charges_payment_intent_idx', ['stripePaymentIntentId'])
@Index('charges_invoice_idx', ['stripeInvoiceId'], { where: 'stripe_invoice_id IS NOT NULL' })
export class ChargeEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'charges_pkey' })
  id!: string;

  @Column({ name: 'stripe_charge_id', type: 'text' })
  stripeChargeId!: string;

  @Column({ name: 'stripe_payment_intent_id', type: 'text', nullable: true })
  stripePaymentIntentId!: string | null;

  @Column({
    name: 'stripe_invoice_id',
    type: 'text',
    nullable: true,
    comment: "the charge's own invoice field (API versions before 2025-03-31), else linked through its invoice payment",
  })
  stripeInvoiceId!: string | null;

  @Column({ name: 'stripe_customer_id', type: 'text', nullable: true })
  stripeCustomerId!: string | null;

  /** succeeded, pending or failed, as Stripe sent it. */
  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'amount_cents', type: 'bigint', transformer: bigintAsNumber })
  amountCents!: number;

  @Column({ name: 'amount_captured_cents', type: 'bigint', transformer: bigintAsNumber })
  amountCapturedCents!: number;

  @Column({ name: 'amount_refunded_cents', type: 'bigint', transformer: bigintAsNumber })
  amountRefundedCents!: number;

  @Column({ type: 'boolean' })
  refunded!: boolean;

  @Column({ type: 'text' })
  currency!: string;

  @Column({ name: 'receipt_url', type: 'text', nullable: true })
  receiptUrl!: string | null;

  /** payment_method_details.type: card, us_bank_account, … */
  @Column({ name: 'payment_method_type', type: 'text', nullable: true })
  paymentMethodType!: string | null;

  @Column({ name: 'failure_code', type: 'text', nullable: true })
  failureCode!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', transformer: epochSeconds, comment: 'when the object was created at Stripe (its created), not when this row was inserted' })
  createdAt!: number;

  @Column({ type: 'boolean' })
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
