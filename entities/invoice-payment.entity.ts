import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { bigintAsNumber, epochSeconds } from './transformers';

/** One row per Stripe InvoicePayment (a payment applied to an invoice); finance queries rely on these column names. */
@Entity({ name: 'invoice_payments' })
@Unique('invoice_payments_stripe_invoice_payment_id_key', ['stripeInvoicePaymentId'])
@Check('invoice_payments_currency_check', `currency ~ '^[a-z]{3}$'`)
@Index('invoice_payments_invoice_idx', ['stripeInvoiceId'])
@Index('invoice_payments_payment_intent_idx', ['stripePaymentIntentId'])
@Index('invoice_payments_charge_idx', ['stripeChargeId'], { where: 'stripe_charge_id IS NOT NULL' })
export class InvoicePaymentEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'invoice_payments_pkey' })
  id!: string;

  @Column({ name: 'stripe_invoice_payment_id', type: 'text' })
  stripeInvoicePaymentId!: string;

  /** The invoice may arrive later: no foreign key. */
  @Column({ name: 'stripe_invoice_id', type: 'text' })
  stripeInvoiceId!: string;

  @Column({ name: 'stripe_payment_intent_id', type: 'text', nullable: true })
  stripePaymentIntentId!: string | null;

  /** payment.charge, or the succeeded charge of its payment intent once that charge is known. */
  @Column({ name: 'stripe_charge_id', type: 'text', nullable: true })
  stripeChargeId!: string | null;

  /** open, paid or canceled, as Stripe sent it. */
  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'amount_cents', type: 'bigint', transformer: bigintAsNumber, comment: 'amount_paid in the smallest currency unit; 0 until paid' })
  amountCents!: number;

  @Column({ name: 'amount_requested_cents', type: 'bigint', transformer: bigintAsNumber })
  amountRequestedCents!: number;

  @Column({ type: 'text' })
  currency!: string;

  @Column({ name: 'is_default', type: 'boolean' })
  isDefault!: boolean;

  @Column({ name: 'paid_at', type: 'timestamptz', nullable: true, transformer: epochSeconds })
  paidAt!: number | null;

  @Column({ name: 'canceled_at', type: 'timestamptz', nullable: true, transformer: epochSeconds })
  canceledAt!: number | null;

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
