import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One rate-limit counter of the billing page (BillingPageHits1765600001000); src/db/billing-page-hits.ts owns its SQL. */
@Entity({
  name: 'billing_page_hits',
  comment:
    'Rate-limit counters of the billing page (GET /billing/<token>), shared by every instance: hits of the window that ends at reset_at, per key (ip:<address> or token:<hash of the token>). Rows whose window ended are deleted by the sweep.',
})
export class BillingPageHitEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'billing_page_hits_pkey' })
  key!: string;

  @Column({ type: 'integer' })
  hits!: number;

  @Column({ name: 'reset_at', type: 'timestamptz' })
  resetAt!: Date;
}
