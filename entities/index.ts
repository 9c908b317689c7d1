import { BillingContactEntity } from './billing-contact.entity';
import { BillingPageHitEntity } from './billing-page-hit.entity';
import { ChargeEntity } from './charge.entity';
import { CreditNoteEntity } from './credit-note.entity';
import { EmailNoticeEntity } from './email-notice.entity';
import { InvoiceEntity } from './invoice.entity';
import { InvoicePaymentEntity } from './invoice-payment.entity';
import { RefundEntity } from './refund.entity';
import { StripeEventEntity } from './stripe-event.entity';
import { WalletLedgerEntryEntity } from './wallet-ledger-entry.entity';

export { BillingContactEntity, BillingPageHitEntity, ChargeEntity, CreditNoteEntity, EmailNoticeEntity, InvoiceEntity, InvoicePaymentEntity, RefundEntity, StripeEventEntity, WalletLedgerEntryEntity };
export const ENTITIES = [InvoiceEntity, StripeEventEntity, EmailNoticeEntity, BillingContactEntity, CreditNoteEntity, InvoicePaymentEntity, ChargeEntity, RefundEntity, WalletLedgerEntryEntity, BillingPageHitEntity];
