import Stripe from 'stripe';
import { isThinEvent } from '../stripe-objects/identify-event';

function sdkSignature() {
  const signature = Stripe.webhooks.signature;
  if (signature === null) throw new Error('this stripe SDK build cannot verify webhook signatures');
  return signature;
}
const signature = sdkSignature();

export type Verification =
  | { ok: true; event: Record<string, unknown>; payload: string; thin: boolean; secret: string }
  | { ok: false; error: string };

const NO_MATCH =
  'No v1 signature matches the signing secret; check the endpoint secret and that the raw body reached us unmodified';

/**
 * The header's single timestamp. Two `t=` fields are refused outright: the SDK signs with the
 * last one, so checking any other would let a future-dated signature through.
 */
function signedTimestamp(header: string): number | null {
  const stamps = header.split(',').filter((part) => part.startsWith('t='));
  if (stamps.length !== 1) return null;
  // Digits only: the SDK signs over parseInt of the value, and the age checked here must be that same number.
  const value = stamps[0]!.slice(2);
  return /^\d{1,15}$/.test(value) ? Number(value) : null;
}

/** Whether the header has a v1 field, read as the SDK reads it: the name before the first `=`. */
const hasV1 = (header: string) => header.split(',').some((part) => part.split('=')[0] === 'v1');

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

  if (!hasV1(header)) return { ok: false, error: 'Stripe-Signature header has no v1 signature' };

  let matched: string | undefined;
  for (const secret of secrets) {
    try {
      // An infinite tolerance turns off the SDK's age check (past only): the age is checked below,
      // both ways, so that the SDK's one failure left is a signature that does not match.
      signature.verifyHeader(rawBody, header, secret, Number.POSITIVE_INFINITY, undefined, nowMs);
      matched = secret;
      break;
    } catch (err) {
      if (err instanceof Stripe.errors.StripeSignatureVerificationError) continue;
      // The SDK could not read the header at all (an empty v1= value fails its comparison).
      return { ok: false, error: 'Invalid Stripe-Signature header' };
    }
  }
  if (matched === undefined) return { ok: false, error: NO_MATCH };

  if (Math.floor(nowMs / 1000) - t > toleranceSeconds) return { ok: false, error: 'Signature timestamp is older than the tolerance' };

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
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && isThinEvent(parsed as Record<string, unknown>)) {
    const thin = parsed as Record<string, unknown>;
    if (typeof thin['id'] !== 'string' || typeof thin['type'] !== 'string') {
      return { ok: false, error: 'Body is not a Stripe event notification: expected id and type' };
    }
    return { ok: true, event: parsed as unknown as Record<string, unknown>, payload, thin: true, secret: matched };
  }
  if (!looksLikeEvent(parsed)) {
    return { ok: false, error: 'Body is not a Stripe event: expected an object with id, type and data.object' };
  }
  return { ok: true, event: parsed, payload, thin: false, secret: matched };
}
