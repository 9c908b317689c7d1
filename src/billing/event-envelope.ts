import { z } from 'zod';
import { MalformedEventError } from '../errors';
import { unixSeconds } from './invoice-layouts';

/** What every snapshot knows of the event (or API read) it came from. */
export interface EventMeta {
  eventId: string;
  eventType: string;
  /** Unix seconds; for a fetched object, when it was fetched. */
  eventCreated: number;
  livemode: boolean;
  apiVersion: string | null;
  /** The connected account the event (or API read) is of, for Connect; null for the platform's own. */
  account: string | null;
}

const eventSchema = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  created: unixSeconds,
  livemode: z.boolean().optional(),
  api_version: z.string().max(255).nullish(),
  // A Connect endpoint's events name the connected account; the platform's own have none (or null).
  account: z.string().max(255).nullish(),
  // Only its shape is checked here (each kind's schema reads the fields): a record schema would
  // copy every key of a large object just to hand it on.
  data: z.object({
    object: z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
      error: (issue) => (issue.input === undefined ? 'missing' : 'expected an object'),
    }),
  }),
});

/** zod's own words for an absent value ("expected string, received undefined") hide that it is absent. */
export const sayMissing = { error: (issue: { input?: unknown }) => (issue.input === undefined ? 'missing' : undefined) };

/** The first issues of a failed parse, each as `path: message`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** A verified event's envelope: what every snapshot knows of its event, and the object it carries (unread). */
export function readEnvelope(event: unknown): { meta: EventMeta; object: Record<string, unknown> } {
  const envelope = eventSchema.safeParse(event, sayMissing);
  if (!envelope.success) throw new MalformedEventError(`not a Stripe event: ${describeIssues(envelope.error)}`);
  const e = envelope.data;
  return {
    meta: { eventId: e.id, eventType: e.type, eventCreated: e.created, livemode: e.livemode ?? false, apiVersion: e.api_version ?? null, account: e.account || null },
    object: e.data.object,
  };
}

/** The event's object read by a kind's schema, or MalformedEventError naming the object and what is wrong. */
export function readObject<T>(schema: z.ZodType<T>, object: Record<string, unknown>, what: string, eventType: string): T {
  const parsed = schema.safeParse(object, sayMissing);
  if (!parsed.success) throw new MalformedEventError(`invalid ${what} in ${eventType}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
