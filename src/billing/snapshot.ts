import { z } from 'zod';
import { fieldsFromInvoice, invoiceSchema, unixSeconds } from './invoice-layouts';
import type { SnapshotFields } from './invoice-state';
import { MalformedEventError } from '../errors';

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



const stubSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('invoice'),
  deleted: z.literal(true),
});

/** What invoice.deleted needs of its body: which invoice. */
const deletedSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('invoice').optional(),
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
    object: z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
      error: (issue) => (issue.input === undefined ? 'missing' : 'expected an object'),
    }),
  }),
});

/** zod's own words for an absent value ("expected string, received undefined") hide that it is absent. */
const sayMissing = { error: (issue: { input?: unknown }) => (issue.input === undefined ? 'missing' : undefined) };

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Turns a verified invoice event into a snapshot, or throws MalformedEventError saying what is wrong. */
export function snapshotFromEvent(event: unknown): InvoiceSnapshot {
  const envelope = eventSchema.safeParse(event, sayMissing);
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

  const parsed = invoiceSchema.safeParse(e.data.object, sayMissing);
  if (!parsed.success) {
    // Stripe deletes only drafts and says so with invoice.deleted: the event is the fact, whatever
    // its body. A body that is not a readable invoice marks the deletion only, as a stub does.
    const target = deleted ? deletedSchema.safeParse(e.data.object, sayMissing) : null;
    if (target?.success) return { ...meta, stripeInvoiceId: target.data.id, stub: true, deleted: true, fields: null };
    throw new MalformedEventError(`invalid invoice in ${e.type}: ${describe(parsed.error)}`);
  }
  return {
    ...meta,
    stripeInvoiceId: parsed.data.id,
    stub: false,
    deleted: deleted || e.data.object['deleted'] === true,
    fields: fieldsFromInvoice(parsed.data, meta.livemode),
  };
}
