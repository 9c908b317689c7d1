import { MalformedEventError } from '../billing/snapshot';

/**
 * Turns a queue message body into the Stripe event it carries. Bodies are the verified webhook
 * payload as Stripe sent it.
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
  return { event: parsed, payload: body };
}
