import { randomUUID } from 'node:crypto';
import pino from 'pino';
import Stripe from 'stripe';
import type { Config } from '../config';
import { createLogger } from '../log';
import { describeStripeError, listAll, StripeApiError, type WarnLogger } from '../recovery/stripe-pages';
import { createStripeClient } from '../stripe/api-client';
import { stripeMayAnswerLater, withBackoff } from '../stripe/with-backoff';
import type { EndpointSnapshot } from './endpoint-findings';

/**
 * The API version the processor parses best: the one the installed SDK is built for, in which
 * every call it makes (thin-event fetches, reconcile, import) is answered and against which its
 * schemas are written.
 */
export const PROCESSOR_API_VERSION: string = Stripe.API_VERSION;

/** As the other commands that call Stripe: from 0.5 s to 8 s, about 15 s in all. */
const BACKOFF = { attempts: 6, baseMs: 500, maxMs: 8000 };

export interface EndpointApi {
  stripe: Stripe;
  logger: WarnLogger;
  apiBase?: string;
  /** The key is a live-mode key: Stripe answers with live-mode endpoints. */
  livemode: boolean;
}

/** The SDK for a command whose STRIPE_SECRET_KEY is known to be set; retries are logged on stderr. */
export function endpointApi(config: Config, what: string): EndpointApi {
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination({ fd: 2, sync: true }));
  return {
    stripe: createStripeClient(config.stripe, what),
    logger,
    ...(config.stripe.apiBase ? { apiBase: config.stripe.apiBase } : {}),
    livemode: /^(sk|rk)_live_/.test(config.stripe.secretKey ?? ''),
  };
}

/** A 403 here is about webhook endpoints, which a restricted key must be granted separately. */
function describe(err: unknown, api: EndpointApi, access: 'read' | 'write'): string {
  if (err instanceof Stripe.errors.StripePermissionError) {
    return `STRIPE_SECRET_KEY may not ${access} webhook endpoints (403: ${err.message}); a restricted key needs Webhook Endpoints: ${access === 'read' ? 'Read' : 'Write'}`;
  }
  return describeStripeError(err, api.apiBase);
}

/** Every webhook endpoint of the account, all pages. */
export async function listEndpoints(api: EndpointApi): Promise<Stripe.WebhookEndpoint[]> {
  const list = async (p: { limit: number; starting_after?: string }) => {
    try {
      return await api.stripe.webhookEndpoints.list(p);
    } catch (err) {
      // listAll names the call and the cause; a 403 deserves the permission it lacks.
      if (err instanceof Stripe.errors.StripePermissionError) throw new Error(describe(err, api, 'read'));
      throw err;
    }
  };
  const rows = await listAll(list, { path: '/v1/webhook_endpoints', backoff: BACKOFF, logger: api.logger, ...(api.apiBase ? { apiBase: api.apiBase } : {}) });
  return rows.map((r) => r.data);
}

export interface NewEndpoint {
  url: string;
  eventTypes: readonly string[];
  apiVersion: string;
  connect: boolean;
  description: string;
  metadata: Record<string, string>;
}

/**
 * Creates the endpoint. One idempotency key for every attempt: when an answer is lost after
 * Stripe created the endpoint, the retry gets that same endpoint (and its secret) back instead of
 * creating a second one.
 */
export async function createEndpoint(api: EndpointApi, e: NewEndpoint): Promise<Stripe.WebhookEndpoint> {
  const idempotencyKey = `stripe-billing-endpoint-${randomUUID()}`;
  const params: Stripe.WebhookEndpointCreateParams = {
    url: e.url,
    enabled_events: [...e.eventTypes] as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
    api_version: e.apiVersion as Stripe.WebhookEndpointCreateParams.ApiVersion,
    connect: e.connect,
    description: e.description,
    metadata: e.metadata,
  };
  try {
    return await withBackoff(() => api.stripe.webhookEndpoints.create(params, { idempotencyKey }), {
      ...BACKOFF,
      onRetry: (attempt, delayMs, reason) => api.logger.warn({ path: '/v1/webhook_endpoints', attempt, delayMs: Math.round(delayMs), reason }, 'Stripe API call failed; backing off'),
    });
  } catch (err) {
    throw new StripeApiError(`POST /v1/webhook_endpoints failed: ${describe(err, api, 'write')}`, stripeMayAnswerLater(err));
  }
}

/** Stripe's objects as the pure checks read them. */
export const snapshot = (e: Stripe.WebhookEndpoint): EndpointSnapshot => ({
  id: e.id,
  url: e.url,
  status: e.status,
  enabled_events: e.enabled_events,
  api_version: e.api_version,
  metadata: e.metadata,
});
