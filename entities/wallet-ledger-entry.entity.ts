import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { bigintAsNumber, epochSeconds } from './transformers';

/**
 * One immutable entry of a prepaid wallet's ledger (WalletLedger1765600000000): the database
 * refuses UPDATE, DELETE and TRUNCATE on the table; a correction is a new entry.
 */
@Entity({
  name: 'wallet_ledger',
  comment:
    'Immutable entries of what paying or refunding an invoice did to a prepaid wallet (metadata.reason of the invoice). UPDATE, DELETE and TRUNCATE are refused; corrections are new entries. Each insert is announced with NOTIFY wallet_ledger, payload the entry id.',
})
@Unique('wallet_ledger_natural_key_key', ['naturalKey'])
@Check('wallet_ledger_currency_check', `currency ~ '^[a-z]{3}$'`)
@Check('wallet_ledger_entry_type_check', `entry_type IN ('topup_credit', 'overage_settled', 'manual_credit', 'refund_reversal', 'refund_failed')`)
@Index('wallet_ledger_customer_idx', ['stripeCustomerId', 'stripeAccountId', 'currency'])
@Index('wallet_ledger_invoice_idx', ['stripeInvoiceId'])
export class WalletLedgerEntryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'wallet_ledger_pkey' })
  id!: string;

  @Column({ name: 'stripe_customer_id', type: 'text', nullable: true })
  stripeCustomerId!: string | null;

  @Column({ name: 'stripe_account_id', type: 'text', nullable: true })
  stripeAccountId!: string | null;

  @Column({ type: 'text' })
  currency!: string;

  @Column({ name: 'entry_type', type: 'text' })
  entryType!: string;

  @Column({
    name: 'amount_cents',
    type: 'bigint',
    transformer: bigintAsNumber,
    comment: "signed, in the currency's minor units: positive credits the wallet, negative debits it; 0 for overage_settled",
  })
  amountCents!: number;

  @Column({
    name: 'debt_settled_cents',
    type: 'bigint',
    transformer: bigintAsNumber,
    comment: 'overage_settled: the amount paid that settled the debt (the wallet is not credited); 0 otherwise',
  })
  debtSettledCents!: number;

  @Column({ name: 'stripe_invoice_id', type: 'text' })
  stripeInvoiceId!: string;

  @Column({
    name: 'stripe_charge_id',
    type: 'text',
    nullable: true,
    comment: 'refund entries: the refunded charge; null on payment entries, whose charge may arrive after them (finance_wallet_ledger.charge_id shows it)',
  })
  stripeChargeId!: string | null;

  @Column({ name: 'stripe_refund_id', type: 'text', nullable: true })
  stripeRefundId!: string | null;

  @Column({ type: 'text', nullable: true, comment: 'metadata.reason of the invoice the entry is the effect of (topup_failed, overage, manual)' })
  reason!: string | null;

  @Column({ name: 'source_event_id', type: 'text', comment: "the Stripe event whose change wrote the entry; api_… for a read of Stripe's API (import, reconcile)" })
  sourceEventId!: string;

  @Column({
    name: 'natural_key',
    type: 'text',
    comment: 'what the entry is the effect of: <entry_type>:<invoice id>, or <entry_type>:<refund id> for refund entries; unique, so no entry is written twice',
  })
  naturalKey!: string;

  @Column({ type: 'boolean' })
  livemode!: boolean;

  @Column({
    name: 'occurred_at',
    type: 'timestamptz',
    nullable: true,
    transformer: epochSeconds,
    comment: "when the payment or refund happened at Stripe (the invoice's paid_at, the refund's created), when known",
  })
  occurredAt!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()', comment: 'when the entry was written' })
  createdAt!: Date;
}
