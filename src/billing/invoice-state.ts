export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'void', 'uncollectible'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/**
 * The invoice row as the pure core sees it. Timestamps are unix seconds, as Stripe sends them;
 * the database layer converts them to timestamptz.
 */
export interface InvoiceState {
  stripeInvoiceId: string;
  stripeCustomerId: string | null;
  customerEmail: string | null;
  customerName: string | null;
  number: string | null;
  status: InvoiceStatus;
  overdue: boolean;
  amountCents: number;
  amountPaidCents: number;
  amountRemainingCents: number;
  totalCents: number;
  /** Null only for a row known solely from a deletion stub (`{id, object, deleted: true}`). */
  currency: string | null;
  dueDate: number | null;
  collectionMethod: string | null;
  billingReason: string | null;
  hostedInvoiceUrl: string | null;
  invoicePdfUrl: string | null;
  livemode: boolean;
  metadata: Record<string, string>;
  attemptCount: number;
  stripeCreatedAt: number | null;
  finalizedAt: number | null;
  paidAt: number | null;
  voidedAt: number | null;
  markedUncollectibleAt: number | null;
  deletedAt: number | null;
  lastEventId: string;
  lastEventCreatedAt: number;
}
