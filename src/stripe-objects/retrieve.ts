import Stripe from 'stripe';
import { withBackoff } from '../stripe/with-backoff';

/** The request options that read as a connected account (the Stripe-Account header), or none for the platform's own. */
export const asAccount = (account: string | null | undefined): Stripe.RequestOptions | undefined => (account ? { stripeAccount: account } : undefined);

/**
 * One object from Stripe's API as the connected account (if any) sees it, retried on 429 and 5xx;
 * null when Stripe has no such object.
 */
export async function retrieveOrNull(call: (options: Stripe.RequestOptions | undefined) => Promise<unknown>, account: string | null): Promise<Record<string, unknown> | null> {
  try {
    // A connected account's object exists only as that account sees it.
    return (await withBackoff(() => call(asAccount(account)), { attempts: 4 })) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'resource_missing') return null;
    throw err;
  }
}
