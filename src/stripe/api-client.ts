import Stripe from 'stripe';
import type { StripeApiConfig } from '../config';
import { BillingError } from '../errors';

/** Raised when a command needs the Stripe API and STRIPE_SECRET_KEY is not set. */
export class MissingStripeKeyError extends BillingError {
  override readonly name = 'MissingStripeKeyError';
  readonly retryable = false;
  override readonly exitCode = 2;
  constructor(what: string) {
    super(`${what} needs STRIPE_SECRET_KEY (a secret or restricted key with read access to events, invoices, invoice payments, charges, refunds, credit notes and customers)`);
  }
}

/**
 * The real SDK, pointed at api.stripe.com or at STRIPE_API_BASE. Retries are ours (see
 * with-backoff.ts): the SDK retries 429 only when Stripe asks it to.
 */
export function createStripeClient(config: StripeApiConfig, what: string): Stripe {
  if (!config.secretKey) throw new MissingStripeKeyError(what);
  const options: Stripe.StripeConfig = { maxNetworkRetries: 0, timeout: 30_000, appInfo: { name: 'stripe-billing' } };
  if (config.apiBase) {
    const u = new URL(config.apiBase);
    options.host = u.hostname;
    options.port = u.port || (u.protocol === 'https:' ? 443 : 80);
    options.protocol = u.protocol === 'https:' ? 'https' : 'http';
  }
  return new Stripe(config.secretKey, options);
}
