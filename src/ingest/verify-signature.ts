import Stripe from 'stripe';
import { isThinEvent } from '../stripe/thin-events';

function sdkSignature() {
  const signature = Stripe.webhooks.signature;
  if (signature === null) throw new Error('this stripe SDK build cannot verify webhook signatures');
  return signature;
}
const signature = sdkSignature();

export type Verification =
  | { ok: true; event: Record<string, unknown>; payload: string; thin: boolean; secret: string }
  | { ok: false; error: string };

/** The SDK's messages carry doc links and hints over several lines; callers get one clear sentence. */
function conciseSdkMessage(message: string): string {
  if (message.startsWith('No stripe-signature header')) return 'Missing Stripe-Signature header';
  if (message.startsWith('Unable to extract timestamp')) return 'Malformed Stripe-Signature header: expected t=<unix>,v1=<hex>';
  if (message.startsWith('No signatures found with expected scheme')) return 'Stripe-Signature header has no v1 signature';
  if (message.startsWith('Timestamp outside the tolerance zone')) return 'Signature timestamp is older than the tolerance';
  if (message.startsWith('No webhook payload')) return 'Empty body';
  return 'Invalid Stripe-Signature header';
}

const NO_MATCH =
  'No v1 signature matches the signing secret; check the endpoint secret and that the raw body reached us unmodified';

/**
 * The header's single timestamp. Two `t=` fields are refused outright: the SDK signs with the
 * last one, so checking any other would let a future-dated signature through.
 */
function signedTimestamp(header: string): number | null {
  const stamps = header.split(',').filter((part) => part.startsWith('t='));
  if (stamps.length !== 1) return null;
  const t = Number(stamps[0]!.slice(2));
  return Number.isSafeInteger(t) ? t : null;
}

function looksLikeEvent(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const data = v['data'] as Record<string, unknown> | undefined;
  return (
    typeof v['id'] === 'string' &&
    typeof v['type'] === 'string' &&
    typeof data === 'object' &&
    data !== null &&
    typeof data['object'] === 'object' &&
    data['object'] !== null
  );
}

/**
 * Verifies a webhook as Stripe signs it: HMAC-SHA256 of `${t}.${rawBody}` with each configured
 * secret (several while one is being rolled), only `v1` counts, and the timestamp must be within
 * the tolerance on both sides, since the SDK alone accepts timestamps from the future.
 */
export function verifyWebhook(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
  toleranceSeconds: number,
  nowMs: number = Date.now(),
): Verification {
  if (rawBody.length === 0) return { ok: false, error: 'Empty body' };
  if (header === undefined || header.trim() === '') return { ok: false, error: 'Missing Stripe-Signature header' };

  const t = signedTimestamp(header);
  if (t === null) return { ok: false, error: 'Malformed Stripe-Signature header: expected exactly one timestamp (t=<unix>)' };

  let matched: string | undefined;
  for (const secret of secrets) {
    try {
      signature.verifyHeader(rawBody, header, secret, toleranceSeconds, undefined, nowMs);
      matched = secret;
      break;
    } catch (err) {
      const message = err instanceof Error ? err.message : '';
      if (message.startsWith('No signatures found matching')) continue;
      return { ok: false, error: conciseSdkMessage(message) };
    }
  }
  if (matched === undefined) return { ok: false, error: NO_MATCH };

  if (t - Math.floor(nowMs / 1000) > toleranceSeconds) {
    return { ok: false, error: 'Signature timestamp is in the future beyond the tolerance; check the sender clock' };
  }

  const payload = rawBody.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return { ok: false, error: 'Body is not valid JSON' };
  }
  if (isThinEvent(parsed)) {
    if (typeof parsed.id !== 'string' || typeof parsed.type !== 'string') {
      return { ok: false, error: 'Body is not a Stripe event notification: expected id and type' };
    }
    return { ok: true, event: parsed as unknown as Record<string, unknown>, payload, thin: true, secret: matched };
  }
  if (!looksLikeEvent(parsed)) {
    return { ok: false, error: 'Body is not a Stripe event: expected an object with id, type and data.object' };
  }
  return { ok: true, event: parsed, payload, thin: false, secret: matched };
}
