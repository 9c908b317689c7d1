import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { bigintAsNumber, epochSeconds } from './transformers';

/** One row per Stripe credit note; finance queries rely on these column names. No foreign key to invoices: events arrive in any order. */
@Entity({ name: 'credit_notes' })
@Unique('credit_notes_stripe_credit_note_id_key', ['stripeCreditNoteId'])
@Check('credit_notes_currency_check', `currency ~ '^[a-z]{3}$'`)
@Index('credit_notes_invoice_idx', ['stripeInvoiceId'])
export class CreditNoteEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'credit_notes_pkey' })
  id!: string;

  @Column({ name: 'stripe_credit_note_id', type: 'text' })
  stripeCreditNoteId!: string;

  @Column({ name: 'stripe_invoice_id', type: 'text' })
  stripeInvoiceId!: string;

  @Column({ name: 'stripe_customer_id', type: 'text', nullable: true })
  stripeCustomerId!: string | null;

  @Column({ type: 'text', nullable: true })
  number!: string | null;

  @Column({ type: 'text', comment: 'issued or void, as Stripe sent it' })
  status!: string;

  @Column({ type: 'text', comment: 'pre_payment, post_payment or mixed, as Stripe sent it' })
  type!: string;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'total_cents', type: 'bigint', transformer: bigintAsNumber })
  totalCents!: number;

  @Column({
    name: 'pre_payment_amount_cents',
    type: 'bigint',
    transformer: bigintAsNumber,
    comment: 'part of total_cents that reduced the amount due; derived from type and total when Stripe did not send it',
  })
  prePaymentAmountCents!: number;

  @Column({
    name: 'post_payment_amount_cents',
    type: 'bigint',
    transformer: bigintAsNumber,
    comment: 'part of total_cents credited after payment (refund, customer balance, out of band); derived from type and total when Stripe did not send it',
  })
  postPaymentAmountCents!: number;

  @Column({ name: 'out_of_band_amount_cents', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  outOfBandAmountCents!: number | null;

  @Column({ type: 'text' })
  currency!: string;

  @Column({ name: 'pdf_url', type: 'text', nullable: true })
  pdfUrl!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', transformer: epochSeconds, comment: "Stripe's created: when the credit note was issued, not when this row was inserted" })
  createdAt!: number;

  @Column({ name: 'voided_at', type: 'timestamptz', nullable: true, transformer: epochSeconds })
  voidedAt!: number | null;

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
