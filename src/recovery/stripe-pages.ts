import Stripe from 'stripe';
import { unixSeconds, wallClock } from '../clock';
import { BillingError } from '../errors';
import { withBackoff, type BackoffOptions, stripeMayAnswerLater } from '../stripe/with-backoff';

/** The Stripe API did not answer usefully, even after backing off; says which call and why. */
export class StripeApiError extends BillingError {
  override readonly name = 'StripeApiError';
  constructor(
    message: string,
    /** Stripe was unreachable, limiting the rate or failing (5xx); false when it refused the call (a key, a parameter). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** What the recovery commands log; pino's Logger fits, and tests can pass a collector. */
export interface WarnLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface Page<T> {
  data: T[];
  /** Unix seconds just before the request that answered was sent: the page is Stripe's state as of then. */
  fetchedAt: number;
}

export interface PageOptions {
  /** GET path, for messages and logs. */
  path: string;
  backoff?: BackoffOptions;
  logger: WarnLogger;
  nowSeconds?: () => number;
  /** Where the client points (STRIPE_API_BASE), named when it cannot be reached. */
  apiBase?: string;
}

/** A command's manners with the API (its logger, clock, backoff and base URL), for every page and read it makes. */
export function apiManners(deps: { logger: WarnLogger; backoff?: BackoffOptions; apiBase?: string }, clock: () => number): Omit<PageOptions, 'path'> & { nowSeconds: () => number } {
  return { logger: deps.logger, nowSeconds: clock, ...(deps.backoff ? { backoff: deps.backoff } : {}), ...(deps.apiBase ? { apiBase: deps.apiBase } : {}) };
}

export { asAccount } from '../stripe-objects/retrieve';

/** Stripe's `created` filter for [since, until]. */
export function createdBetween(since: Date, until?: Date): Stripe.RangeQueryParam {
  return { gte: unixSeconds(since), ...(until ? { lte: unixSeconds(until) } : {}) };
}

type ListCall<T> = (params: { limit: number; starting_after?: string }) => Promise<{ data: T[]; has_more: boolean }>;

/**
 * Walks a Stripe list endpoint page by page with starting_after, each page retried on 429 and
 * 5xx. One page at a time: a caller that handles each page before asking for the next never
 * holds more than a page, however long the range.
 */
export async function* listPages<T extends { id: string }>(list: ListCall<T>, o: PageOptions): AsyncGenerator<Page<T>> {
  const clock = o.nowSeconds ?? wallClock;
  // Stripe's largest page: the fewest calls, and so the fewest 429s.
  const limit = 100;
  let startingAfter: string | undefined;
  for (;;) {
    let fetchedAt = clock();
    const params = startingAfter === undefined ? { limit } : { limit, starting_after: startingAfter };
    let page: { data: T[]; has_more: boolean };
    try {
      page = await withBackoff(
        () => {
          fetchedAt = clock();
          return list(params);
        },
        {
          ...o.backoff,
          onRetry: (attempt, delayMs, reason) => {
            o.logger.warn({ path: o.path, startingAfter, attempt, delayMs: Math.round(delayMs), reason }, 'Stripe API call failed; backing off');
            o.backoff?.onRetry?.(attempt, delayMs, reason);
          },
        },
      );
    } catch (err) {
      throw new StripeApiError(`GET ${o.path} failed: ${describeStripeError(err, o.apiBase)}`, stripeMayAnswerLater(err));
    }
    yield { data: page.data, fetchedAt };
    const last = page.data[page.data.length - 1];
    if (!page.has_more || last === undefined) return;
    startingAfter = last.id;
  }
}

/** Every page of a list, in order, each object with the moment its page was asked for. */
export async function listAll<T extends { id: string }>(list: ListCall<T>, o: PageOptions): Promise<Array<{ data: T; fetchedAt: number }>> {
  const out: Array<{ data: T; fetchedAt: number }> = [];
  for await (const page of listPages(list, o)) for (const data of page.data) out.push({ data, fetchedAt: page.fetchedAt });
  return out;
}

/**
 * One object by id, retried as a page is; null when Stripe has none (404 resource_missing), so a
 * reference to an object Stripe no longer has is the caller's to report, not a failed run.
 */
export async function retrieveOne<T>(retrieve: () => Promise<T>, o: PageOptions): Promise<{ data: T | null; fetchedAt: number }> {
  const clock = o.nowSeconds ?? wallClock;
  let fetchedAt = clock();
  try {
    const data = await withBackoff(
      () => {
        fetchedAt = clock();
        return retrieve();
      },
      {
        ...o.backoff,
        onRetry: (attempt, delayMs, reason) => {
          o.logger.warn({ path: o.path, attempt, delayMs: Math.round(delayMs), reason }, 'Stripe API call failed; backing off');
          o.backoff?.onRetry?.(attempt, delayMs, reason);
        },
      },
    );
    return { data, fetchedAt };
  } catch (err) {
    if (err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'resource_missing') return { data: null, fetchedAt };
    throw new StripeApiError(`GET ${o.path} failed: ${describeStripeError(err, o.apiBase)}`, stripeMayAnswerLater(err));
  }
}

/** A message an engineer can act on; the SDK's own messages carry at most a masked key. */
export function describeStripeError(err: unknown, apiBase = 'https://api.stripe.com'): string {
  if (err instanceof Stripe.errors.StripeConnectionError) return `cannot reach the Stripe API at ${apiBase} (${err.message})`;
  if (err instanceof Stripe.errors.StripeAuthenticationError) return `Stripe refused STRIPE_SECRET_KEY (401: ${err.message})`;
  if (err instanceof Stripe.errors.StripePermissionError) return `STRIPE_SECRET_KEY may not read this (403: ${err.message})`;
  if (err instanceof Stripe.errors.StripeError) {
    const status = err.statusCode === undefined ? '' : `${err.statusCode}: `;
    return `the Stripe API answered ${status}${err.message}${err.statusCode === 429 || (err.statusCode ?? 0) >= 500 ? ' (still failing after backing off)' : ''}`;
  }
  return (err as Error)?.message ?? String(err);
}
