import Stripe from 'stripe';
import { MalformedEventError } from '../errors';
import { isEventBridgeEnvelope } from '../stripe-objects/identify-event';
import { findUnstorableText, mayHoldUnstorableText } from './unstorable-text';

/**
 * Turns a queue message body into the Stripe event it carries: the verified webhook payload as
 * Stripe sent it, or an EventBridge envelope routed into the same queue.
 */
export function parseMessageBody(body: string): { event: unknown; payload: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new MalformedEventError('message body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MalformedEventError('message body is not a JSON object');
  }
  // Such an event can never be stored: refused here, it reaches the DLQ in seconds instead of
  // failing its transaction (and, in a batch, everyone else's) at every receive.
  const where = mayHoldUnstorableText(body) ? findUnstorableText(parsed) : null;
  if (where !== null) throw new MalformedEventError(`text PostgreSQL cannot store (a NUL character or an unpaired surrogate) at ${where}`);
  if (isEventBridgeEnvelope(parsed as Record<string, unknown>)) {
    const event = Stripe.webhooks.constructEventWithoutVerification(body) as unknown;
    return { event, payload: JSON.stringify(event) };
  }
  return { event: parsed, payload: body };
}
