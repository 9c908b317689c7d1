import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { bigintAsNumber, epochSeconds } from './transformers';

/** One row per Stripe invoice; finance queries rely on these column names. */
@Entity({ name: 'invoices' })
@Unique('invoices_stripe_invoice_id_key', ['stripeInvoiceId'])
@Check('invoices_currency_check', `currency ~ '^[a-z]{3}$'`)
// The sweep visits only open invoices with a due date.
@Index('invoices_open_due_idx', ['dueDate'], { where: `status = 'open' AND due_date IS NOT NULL` })
@Index('invoices_customer_idx', ['stripeCustomerId'])
@Index('invoices_next_dunning_idx', ['nextDunningAt'], { where: 'next_dunning_at IS NOT NULL' })
// A connected account's invoices (`billing invoices --account`), newest first.
@Index('invoices_account_idx', ['stripeAccountId', 'stripeCreatedAt'], { where: 'stripe_account_id IS NOT NULL' })
export class InvoiceEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'invoices_pkey' })
  id!: string;

  @Column({ name: 'stripe_invoice_id', type: 'text' })
  stripeInvoiceId!: string;

  @Column({ name: 'stripe_customer_id', type: 'text', nullable: true })
  stripeCustomerId!: string | null;

  @Column({ name: 'customer_email', type: 'text', nullable: true })
  customerEmail!: string | null;

  @Column({ name: 'customer_name', type: 'text', nullable: true })
  customerName!: string | null;

  @Column({ type: 'text', nullable: true })
  number!: string | null;

  /** What Stripe sent, unchecked: a status Stripe adds later is stored too, and means nothing to the code. */
  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'boolean', default: false, comment: 'open, past due_date and amount_remaining_cents > 0' })
  overdue!: boolean;

  @Column({ name: 'amount_cents', type: 'bigint', transformer: bigintAsNumber, comment: 'amount_due in the smallest currency unit' })
  amountCents!: number;

  @Column({ name: 'amount_paid_cents', type: 'bigint', transformer: bigintAsNumber })
  amountPaidCents!: number;

  @Column({ name: 'amount_remaining_cents', type: 'bigint', transformer: bigintAsNumber })
  amountRemainingCents!: number;

  @Column({ name: 'total_cents', type: 'bigint', transformer: bigintAsNumber })
  totalCents!: number;

  /** Null only on the stub a deletion leaves behind; otherwise three lowercase letters. */
  @Column({ type: 'text', nullable: true })
  currency!: string | null;

  @Column({ name: 'due_date', type: 'timestamptz', nullable: true, transformer: epochSeconds })
  dueDate!: number | null;

  @Column({ name: 'collection_method', type: 'text', nullable: true })
  collectionMethod!: string | null;

  @Column({ name: 'billing_reason', type: 'text', nullable: true })
  billingReason!: string | null;

  @Column({ name: 'hosted_invoice_url', type: 'text', nullable: true })
  hostedInvoiceUrl!: string | null;

  @Column({ name: 'invoice_pdf_url', type: 'text', nullable: true })
  invoicePdfUrl!: string | null;

  @Column({ type: 'boolean' })
  livemode!: boolean;

  @Column({ type: 'jsonb', default: {} })
  metadata!: Record<string, string>;

  @Column({ name: 'attempt_count', type: 'integer', default: 0 })
  attemptCount!: number;

  @Column({ name: 'stripe_created_at', type: 'timestamptz', nullable: true, transformer: epochSeconds })
  stripeCreatedAt!: number | null;

  @Column({ name: 'finalized_at', type: 'timestamptz', nullable: true, transformer: epochSeconds })
  finalizedAt!: number | null;

  @Column({ name: 'paid_at', type: 'timestamptz', nullable: true, transformer: epochSeconds })
  paidAt!: number | null;

  @Column({ name: 'voided_at', type: 'timestamptz', nullable: true, transformer: epochSeconds })
  voidedAt!: number | null;

  @Column({ name: 'marked_uncollectible_at', type: 'timestamptz', nullable: true, transformer: epochSeconds })
  markedUncollectibleAt!: number | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true, transformer: epochSeconds })
  deletedAt!: number | null;

  @Column({ name: 'last_event_id', type: 'text' })
  lastEventId!: string;

  @Column({ name: 'last_event_created_at', type: 'timestamptz', transformer: epochSeconds })
  lastEventCreatedAt!: number;

  /** When the sweep must next look at the invoice for a dunning reminder; null when never again. */
  @Column({ name: 'next_dunning_at', type: 'timestamptz', nullable: true })
  nextDunningAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @Column({ name: 'stripe_account_id', type: 'text', nullable: true, comment: "the connected account (Connect) the row belongs to; null for the platform's own" })
  stripeAccountId!: string | null;
}
