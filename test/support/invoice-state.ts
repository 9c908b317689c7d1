import type { InvoiceState } from '../../src/billing/invoice-state';

const DAY = 86_400;

/**
 * The row the merge leaves for an open, unpaid `send_invoice` invoice of 10.00 USD due at
 * `dueDate`, finalized 30 days before; the pure tests of notices override what they look at.
 */
export function openInvoiceState(dueDate: number, overrides: Partial<InvoiceState> = {}): InvoiceState {
  return {
    stripeInvoiceId: 'in_1Test',
    stripeCustomerId: 'cus_Test',
    customerEmail: 'jane@example.com',
    customerName: 'Jane Doe',
    number: 'INV-0001',
    status: 'open',
    overdue: false,
    amountCents: 1000,
    amountPaidCents: 0,
    amountRemainingCents: 1000,
    totalCents: 1000,
    currency: 'usd',
    dueDate,
    collectionMethod: 'send_invoice',
    billingReason: 'manual',
    hostedInvoiceUrl: null,
    invoicePdfUrl: null,
    livemode: false,
    metadata: {},
    attemptCount: 0,
    stripeCreatedAt: dueDate - 31 * DAY,
    finalizedAt: dueDate - 30 * DAY,
    paidAt: null,
    voidedAt: null,
    markedUncollectibleAt: null,
    deletedAt: null,
    lastEventId: 'evt_1Test',
    lastEventCreatedAt: dueDate - 30 * DAY,
    stripeAccountId: null,
    ...overrides,
  };
}
