import Stripe from 'stripe';
import type { FetchInvoice } from './thin-events';
import { withBackoff } from './with-backoff';

/** GET /v1/invoices/:id, retried on 429 and 5xx; null when Stripe says the invoice does not exist. */
export function invoiceFetcher(stripe: Stripe): FetchInvoice {
  return async (id) => {
    try {
      return (await withBackoff(() => stripe.invoices.retrieve(id), { attempts: 4 })) as unknown as Record<string, unknown>;
    } catch (err) {
      if (err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'resource_missing') return null;
      throw err;
    }
  };
}
