import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Who receives a customer's invoice emails when it is not the address on the invoice, and what
 * the customer's Stripe events last said. invoice_email is set only by `billing contacts set`;
 * primary_email by it and by newer customer events.
 */
@Entity({ name: 'billing_contacts' })
export class BillingContactEntity {
  @PrimaryColumn({ name: 'stripe_customer_id', type: 'text', primaryKeyConstraintName: 'billing_contacts_pkey' })
  stripeCustomerId!: string;

  @Column({ name: 'invoice_email', type: 'text', nullable: true })
  invoiceEmail!: string | null;

  @Column({ name: 'primary_email', type: 'text', nullable: true })
  primaryEmail!: string | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;

  @Column({ name: 'stripe_email', type: 'text', nullable: true, comment: "the customer's email as Stripe last sent it, valid or not" })
  stripeEmail!: string | null;

  @Column({
    name: 'stripe_synced_at',
    type: 'timestamptz',
    nullable: true,
    comment: 'created of the customer event whose state the row holds; null when no customer event was applied',
  })
  stripeSyncedAt!: Date | null;

  @Column({ name: 'last_event_id', type: 'text', nullable: true })
  lastEventId!: string | null;

  @Column({ name: 'stripe_account_id', type: 'text', nullable: true, comment: "the connected account (Connect) the row belongs to; null for the platform's own" })
  stripeAccountId!: string | null;
}
