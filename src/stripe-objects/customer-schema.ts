import { z } from 'zod';
import { readEnvelope, readObject, type EventMeta } from '../billing/event-envelope';

/** What one snapshot says about a customer: the customer's own email and name, or nothing (a deletion stub). */
export interface CustomerSnapshot extends EventMeta {
  stripeCustomerId: string;
  /** customer.deleted, or a body that says deleted: true. */
  deleted: boolean;
  /** Null for a deletion stub (`{id, object: 'customer', deleted: true}`), which says nothing else. */
  fields: { email: string | null; name: string | null } | null;
}

const id = z.string().min(1).max(255);
const text = z.string().max(5000);

const customerSchema = z.object({
  id,
  object: z.literal('customer'),
  deleted: z.boolean().optional(),
  // Kept as sent, valid or not: the reducer decides what may be mailed.
  email: text.nullish(),
  name: text.nullish(),
});

const DELETED = 'customer.deleted';

/**
 * Turns a verified customer event into a snapshot, or throws MalformedEventError saying what is
 * wrong. Stripe answers a retrieve of a deleted customer, and a thin event's fetch, with the stub
 * `{id, object, deleted: true}`: it marks the deletion and leaves the fields as they were.
 */
export function readCustomerEvent(event: unknown): CustomerSnapshot {
  const { meta, object } = readEnvelope(event);
  const c = readObject(customerSchema, object, 'customer', meta.eventType);
  const deleted = meta.eventType === DELETED || c.deleted === true;
  // A real customer always has `created`; the stub has only id, object and deleted.
  const stub = c.deleted === true && !('created' in object);
  return {
    ...meta,
    stripeCustomerId: c.id,
    deleted,
    fields: stub ? null : { email: c.email ?? null, name: c.name ?? null },
  };
}
