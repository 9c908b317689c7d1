import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Who receives a customer's invoice emails when it is not the address on the invoice. */
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
}
