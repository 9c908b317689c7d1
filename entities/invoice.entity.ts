import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { bigintAsNumber, epochSeconds } from './transformers';

/** One row per Stripe invoice; finance queries rely on these column names. */
@Entity({ name: 'invoices' })
export class InvoiceEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Index({ unique: true })
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

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'boolean', default: false })
  overdue!: boolean;

  @Column({ name: 'amount_cents', type: 'bigint', transformer: bigintAsNumber })
  amountCents!: number;

  @Column({ name: 'amount_paid_cents', type: 'bigint', transformer: bigintAsNumber })
  amountPaidCents!: number;

  @Column({ name: 'amount_remaining_cents', type: 'bigint', transformer: bigintAsNumber })
  amountRemainingCents!: number;

  @Column({ name: 'total_cents', type: 'bigint', transformer: bigintAsNumber })
  totalCents!: number;

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

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
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

  @Column({ name: 'next_dunning_at', type: 'timestamptz', nullable: true })
  nextDunningAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
