import type { Message } from '@aws-sdk/client-sqs';
import { isEventBridgeEnvelope } from '../consume/message-body';

export interface MessageSummary {
  messageId: string;
  eventId: string | null;
  type: string | null;
  invoiceId: string | null;
  /** Why the body is not an event we could name, when it is not. */
  problem?: string;
}

/** Enough of a queued message to tell an engineer what it is, without printing its payload. */
export function describeMessage(m: Message): MessageSummary {
  const base = { messageId: m.MessageId ?? '', eventId: null, type: null, invoiceId: null };
  let body: unknown;
  try {
    body = JSON.parse(m.Body ?? '');
  } catch {
    return { ...base, problem: 'body is not JSON' };
  }
  if (typeof body !== 'object' || body === null) return { ...base, problem: 'body is not a JSON object' };
  let e = body as Record<string, unknown>;
  if (isEventBridgeEnvelope(e)) e = e['detail'] as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const object = (e['data'] as { object?: { id?: unknown } } | undefined)?.object;
  const related = e['related_object'] as { id?: unknown } | undefined;
  const summary = { ...base, eventId: str(e['id']), type: str(e['type']), invoiceId: str(object?.id) ?? str(related?.id) };
  return summary.eventId === null ? { ...summary, problem: 'not a Stripe event' } : summary;
}
