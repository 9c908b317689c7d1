/** The statuses Stripe documents; the code that acts on a status (overdue, dunning, notices) knows these. */
export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'void', 'uncollectible'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

declare const unknownStatusBrand: unique symbol;
/**
 * A status Stripe added after INVOICE_STATUSES was written (its SDK types the field as open-ended).
 * Branded, so no string becomes one unnoticed, and so a switch over InvoiceStatus stays exhaustive
 * once isKnownStatus has set these apart.
 */
export type UnknownStatus = string & { readonly [unknownStatusBrand]: true };

/** An invoice's status as Stripe sent it. */
export type StripeInvoiceStatus = InvoiceStatus | UnknownStatus;

const KNOWN: ReadonlySet<string> = new Set(INVOICE_STATUSES);

export const isKnownStatus = (status: string): status is InvoiceStatus => KNOWN.has(status);

/** A status read from Stripe (or from a row that stored one), kept as it is. */
export const statusAsSent = (status: string): StripeInvoiceStatus => status as StripeInvoiceStatus;

/** What an invoice snapshot says, in today's names, whatever layout it was read from. */
export interface SnapshotFields {
  stripeCustomerId: string | null;
  customerEmail: string | null;
  customerName: string | null;
  number: string | null;
  /** Nothing acts on an UnknownStatus: it is never overdue, dunned or announced. */
  status: StripeInvoiceStatus;
  amountCents: number;
  amountPaidCents: number;
  amountRemainingCents: number;
  totalCents: number;
  currency: string;
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
}

/**
 * The invoice row as the pure core sees it: what the snapshot it last took its fields from said,
 * and what the processor keeps beside it. Timestamps are unix seconds, as Stripe sends them; the
 * database layer converts them to timestamptz.
 */
export interface InvoiceState extends Omit<SnapshotFields, 'currency'> {
  stripeInvoiceId: string;
  overdue: boolean;
  /** Null only for a row known solely from a deletion stub (`{id, object, deleted: true}`). */
  currency: string | null;
  deletedAt: number | null;
  lastEventId: string;
  lastEventCreatedAt: number;
  /** The connected account the invoice belongs to (Connect); null for the platform's own. Set once, never changed. */
  stripeAccountId: string | null;
}
