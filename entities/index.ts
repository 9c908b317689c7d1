import { BillingContactEntity } from './billing-contact.entity';
import { EmailNoticeEntity } from './email-notice.entity';
import { InvoiceEntity } from './invoice.entity';
import { StripeEventEntity } from './stripe-event.entity';

export { BillingContactEntity, EmailNoticeEntity, InvoiceEntity, StripeEventEntity };
export const ENTITIES = [InvoiceEntity, StripeEventEntity, EmailNoticeEntity, BillingContactEntity];
