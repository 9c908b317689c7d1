import type { Message } from '@aws-sdk/client-sqs';
import { identifyEvent } from '../stripe-objects/identify-event';

export interface MessageSummary {
  messageId: string;
  eventId: string | null;
  type: string | null;
  /** Stripe's `object` value of what the event carries (`invoice`), and its id. */
  object: string | null;
  objectId: string | null;
  /** Why the body is not an event we could name, when it is not. */
  problem?: string;
}

/** Enough of a queued message to tell an engineer what it is, without printing its payload. */
export function describeMessage(m: Message): MessageSummary {
  const base = { messageId: m.MessageId ?? '', eventId: null, type: null, object: null, objectId: null };
  let body: unknown;
  try {
    body = JSON.parse(m.Body ?? '');
  } catch {
    return { ...base, problem: 'body is not JSON' };
  }
  if (typeof body !== 'object' || body === null) return { ...base, problem: 'body is not a JSON object' };
  const who = identifyEvent(body);
  const summary = { ...base, eventId: who.id, type: who.type, object: who.object, objectId: who.objectId };
  return summary.eventId === null ? { ...summary, problem: 'not a Stripe event' } : summary;
}
