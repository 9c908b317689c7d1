import { z } from 'zod';
import { INVOICE_STATUSES, type InvoiceStatus } from './invoice-state';

/** A verified event that cannot be turned into an invoice snapshot; retrying will not help. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
  readonly retryable = false;
}

/** What one event says about one invoice, already checked and normalised. */
export interface InvoiceSnapshot {
  eventId: string;
  eventType: string;
  eventCreated: number;
  livemode: boolean;
  apiVersion: string | null;
  stripeInvoiceId: string;
  /** A deletion stub carries nothing but the id; it contributes `deletedAt` only. */
  stub: boolean;
  deleted: boolean;
  fields: SnapshotFields | null;
}

export interface SnapshotFields {
  stripeCustomerId: string | null;
  customerEmail: string | null;
  customerName: string | null;
  number: string | null;
  status: InvoiceStatus;
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

const cents = z.number().int().safe();
const unixSeconds = z.number().int().nonnegative().safe();
const text = z.string().max(5000);
/** Stripe expands some references to objects; only the id matters here. */
const idOrObject = z.union([text, z.object({ id: text })]).transform((v) => (typeof v === 'string' ? v : v.id));

const invoiceSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('invoice'),
  customer: idOrObject.nullish(),
  customer_email: text.nullish(),
  customer_name: text.nullish(),
  number: text.nullish(),
  status: z.enum(INVOICE_STATUSES),
  amount_due: cents,
  amount_paid: cents,
  amount_remaining: cents,
  total: cents,
  currency: z.string().regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO currency code'),
  due_date: unixSeconds.nullish(),
  collection_method: text.nullish(),
  billing_reason: text.nullish(),
  hosted_invoice_url: text.nullish(),
  invoice_pdf: text.nullish(),
  livemode: z.boolean().optional(),
  metadata: z.record(z.string(), z.string()).nullish(),
  attempt_count: z.number().int().nonnegative().safe().nullish(),
  created: unixSeconds.nullish(),
  status_transitions: z
    .object({
      finalized_at: unixSeconds.nullish(),
      paid_at: unixSeconds.nullish(),
      voided_at: unixSeconds.nullish(),
      marked_uncollectible_at: unixSeconds.nullish(),
    })
    .nullish(),
});

const stubSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('invoice'),
  deleted: z.literal(true),
});

const eventSchema = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  created: unixSeconds,
  livemode: z.boolean().optional(),
  api_version: z.string().max(255).nullish(),
  // Only its shape is checked here (the invoice schema reads the fields): a record schema would
  // copy every key of a large invoice just to hand it on.
  data: z.object({
    object: z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'expected an object'),
  }),
});

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Turns a verified invoice event into a snapshot, or throws MalformedEventError saying what is wrong. */
export function snapshotFromEvent(event: unknown): InvoiceSnapshot {
  const envelope = eventSchema.safeParse(event);
  if (!envelope.success) throw new MalformedEventError(`not a Stripe event: ${describe(envelope.error)}`);
  const e = envelope.data;
  const meta = {
    eventId: e.id,
    eventType: e.type,
    eventCreated: e.created,
    livemode: e.livemode ?? false,
    apiVersion: e.api_version ?? null,
  };
  const deleted = e.type === 'invoice.deleted';

  // Only a stub can say deleted: true; asking the schema of every invoice would build a failure each time.
  const stub = e.data.object['deleted'] === true ? stubSchema.safeParse(e.data.object) : null;
  if (stub?.success && !('status' in e.data.object)) {
    return { ...meta, stripeInvoiceId: stub.data.id, stub: true, deleted: true, fields: null };
  }

  const parsed = invoiceSchema.safeParse(e.data.object);
  if (!parsed.success) throw new MalformedEventError(`invalid invoice in ${e.type}: ${describe(parsed.error)}`);
  const inv = parsed.data;
  const transitions = inv.status_transitions ?? {};
  return {
    ...meta,
    stripeInvoiceId: inv.id,
    stub: false,
    deleted: deleted || e.data.object['deleted'] === true,
    fields: {
      stripeCustomerId: inv.customer ?? null,
      customerEmail: inv.customer_email ?? null,
      customerName: inv.customer_name ?? null,
      number: inv.number ?? null,
      status: inv.status,
      amountCents: inv.amount_due,
      amountPaidCents: inv.amount_paid,
      amountRemainingCents: inv.amount_remaining,
      totalCents: inv.total,
      currency: inv.currency.toLowerCase(),
      dueDate: inv.due_date ?? null,
      collectionMethod: inv.collection_method ?? null,
      billingReason: inv.billing_reason ?? null,
      hostedInvoiceUrl: inv.hosted_invoice_url ?? null,
      invoicePdfUrl: inv.invoice_pdf ?? null,
      livemode: inv.livemode ?? meta.livemode,
      metadata: inv.metadata ?? {},
      attemptCount: inv.attempt_count ?? 0,
      stripeCreatedAt: inv.created ?? null,
      finalizedAt: transitions.finalized_at ?? null,
      paidAt: transitions.paid_at ?? null,
      voidedAt: transitions.voided_at ?? null,
      markedUncollectibleAt: transitions.marked_uncollectible_at ?? null,
    },
  };
}
