import { z } from 'zod';
import { fieldsFromInvoice, invoiceSchema } from './invoice-layouts';
import type { SnapshotFields } from './invoice-state';
import { MalformedEventError } from '../errors';
import { describeIssues, readEnvelope, sayMissing, type EventMeta } from './event-envelope';

/** What one event says about one invoice, already checked and normalised. */
export interface InvoiceSnapshot extends EventMeta {
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

/** Turns a verified invoice event into a snapshot, or throws MalformedEventError saying what is wrong. */
export function snapshotFromEvent(event: unknown): InvoiceSnapshot {
  const { meta, object } = readEnvelope(event);
  const deleted = meta.eventType === 'invoice.deleted';

  // Only a stub can say deleted: true; asking the schema of every invoice would build a failure each time.
  const stub = object['deleted'] === true ? stubSchema.safeParse(object) : null;
  if (stub?.success && !('status' in object)) {
    return { ...meta, stripeInvoiceId: stub.data.id, stub: true, deleted: true, fields: null };
  }

  const parsed = invoiceSchema.safeParse(object, sayMissing);
  if (!parsed.success) {
    // Stripe deletes only drafts and says so with invoice.deleted: the event is the fact, whatever
    // its body. A body that is not a readable invoice marks the deletion only, as a stub does.
    const target = deleted ? deletedSchema.safeParse(object, sayMissing) : null;
    if (target?.success) return { ...meta, stripeInvoiceId: target.data.id, stub: true, deleted: true, fields: null };
    throw new MalformedEventError(`invalid invoice in ${meta.eventType}: ${describeIssues(parsed.error)}`);
  }
  return {
    ...meta,
    stripeInvoiceId: parsed.data.id,
    stub: false,
    deleted: deleted || object['deleted'] === true,
    fields: fieldsFromInvoice(parsed.data, meta.livemode),
  };
}
