import { InvoiceEntity } from './invoice.entity';
import { StripeEventEntity } from './stripe-event.entity';

export { InvoiceEntity, StripeEventEntity };
export const ENTITIES = [InvoiceEntity, StripeEventEntity];
