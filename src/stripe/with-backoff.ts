import Stripe from 'stripe';

export interface BackoffOptions {
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
  onRetry?: (attempt: number, delayMs: number, reason: string) => void;
}

/** Whether the same call may succeed later: rate limits, Stripe's 5xx and dropped connections; anything else is the caller's error. */
export function stripeMayAnswerLater(err: unknown): boolean {
  if (err instanceof Stripe.errors.StripeRateLimitError) return true;
  if (err instanceof Stripe.errors.StripeAPIError) return true;
  if (err instanceof Stripe.errors.StripeConnectionError) return true;
  const status = (err as { statusCode?: number }).statusCode;
  return status === 429 || (typeof status === 'number' && status >= 500);
}

/** Calls the Stripe API again after 429 and 5xx with exponential backoff and jitter. */
export async function withBackoff<T>(call: () => Promise<T>, o: BackoffOptions = {}): Promise<T> {
  const attempts = o.attempts ?? 8;
  const base = o.baseMs ?? 500;
  const max = o.maxMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!stripeMayAnswerLater(err) || attempt >= attempts) throw err;
      const delay = Math.min(max, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      o.onRetry?.(attempt, delay, (err as Error).message);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
