/**
 * The test Stripe API's webhook endpoints, driven through the real `stripe` SDK as
 * `billing endpoint` drives them: Stripe's shapes (the secret only in the create answer), its
 * list pagination, its 400s and 401s, and its idempotent replays.
 */
import Stripe from 'stripe';
import { createStripeClient } from '../../src/stripe/api-client';
import { webhookEndpointObject } from '../support/stripe-api/objects';
import { webhookCatalog } from '../support/stripe-api/sdk-catalog';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';

const KEY = 'sk_test_webhookEndpoints0123456789';
let api: StripeApi;
let stripe: Stripe;

beforeAll(async () => {
  api = await startStripeApi();
  stripe = createStripeClient({ secretKey: KEY, apiBase: api.url }, 'test');
});
afterAll(async () => {
  await api.stop();
});
beforeEach(() => api.reset());

const URL_ = 'https://billing.example.com/webhooks/stripe';
type EnabledEvent = Stripe.WebhookEndpointCreateParams.EnabledEvent;

const invalidRequest = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => {
      throw new Error('expected Stripe to refuse the request');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  return err as Stripe.errors.StripeInvalidRequestError;
};

describe('POST /v1/webhook_endpoints', () => {
  it("answers Stripe's object with the secret, and stores it without", async () => {
    const created = await stripe.webhookEndpoints.create({
      url: URL_,
      enabled_events: ['invoice.paid', 'charge.refunded'],
      api_version: '2026-10-28.endive',
      connect: true,
      description: 'billing',
      metadata: { managed_by: 'stripe-billing' },
    });
    expect(created).toMatchObject({
      id: expect.stringMatching(/^we_[A-Za-z0-9]{24}$/),
      object: 'webhook_endpoint',
      api_version: '2026-10-28.endive',
      application: null,
      description: 'billing',
      enabled_events: ['invoice.paid', 'charge.refunded'],
      livemode: false,
      metadata: { managed_by: 'stripe-billing' },
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9]{32}$/),
      status: 'enabled',
      url: URL_,
    });
    expect(Math.abs(created.created - Date.now() / 1000)).toBeLessThan(5);
    // connect is a create parameter only: Stripe's object has no such attribute.
    expect(created).not.toHaveProperty('connect');
    expect(api.webhookEndpoints.isConnect(created.id)).toBe(true);
    expect(api.webhookEndpoints.secretOf(created.id)).toBe(created.secret);

    const { secret: _secret, ...listed } = created;
    expect(await stripe.webhookEndpoints.retrieve(created.id)).toEqual(listed);
    expect((await stripe.webhookEndpoints.list()).data).toEqual([listed]);
    expect(api.webhookEndpoints.get(created.id)).not.toHaveProperty('secret');
  });

  it('creates live-mode endpoints with a live key, at the account default version when none is asked for', async () => {
    const live = createStripeClient({ secretKey: 'sk_live_webhookEndpoints0123456789', apiBase: api.url }, 'test');
    const created = await live.webhookEndpoints.create({ url: URL_, enabled_events: ['invoice.paid'] });
    expect(created).toMatchObject({ livemode: true, api_version: null, description: null, metadata: {} });
    expect(api.webhookEndpoints.isConnect(created.id)).toBe(false);
  });

  it.each([
    ['no url', { enabled_events: ['invoice.paid'] }, 'url', /Missing required param: url/],
    ['no enabled_events', { url: URL_ }, 'enabled_events', /Missing required param: enabled_events/],
    ['a relative url', { url: '/webhooks/stripe', enabled_events: ['invoice.paid'] }, 'url', /Invalid URL/],
    ['an ftp url', { url: 'ftp://billing.example.com/x', enabled_events: ['invoice.paid'] }, 'url', /Invalid URL/],
    ['localhost', { url: 'https://localhost:4242/webhooks/stripe', enabled_events: ['invoice.paid'] }, 'url', /publicly accessible/],
    ['a private address', { url: 'https://10.1.2.3/webhooks/stripe', enabled_events: ['invoice.paid'] }, 'url', /publicly accessible/],
    ['an unknown event type', { url: URL_, enabled_events: ['invoice.paid', 'invoice.exploded'] }, 'enabled_events[1]', /Invalid enabled_events\[1\]: must be one of/],
    ['an unknown API version', { url: URL_, enabled_events: ['invoice.paid'], api_version: '2020-01-01' }, 'api_version', /Invalid api_version/],
    ['an unknown parameter', { url: URL_, enabled_events: ['invoice.paid'], colour: 'blue' }, 'colour', /Received unknown parameter: colour/],
  ])('answers 400 invalid_request_error for %s, naming the parameter, and creates nothing', async (_name, params, param, message) => {
    const err = await invalidRequest(stripe.webhookEndpoints.create(params as unknown as Stripe.WebhookEndpointCreateParams));
    expect(err).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', param });
    expect(err.message).toMatch(message);
    expect(api.webhookEndpoints.size).toBe(0);
  });

  it('refuses plain HTTP in live mode only, as Stripe does', async () => {
    const live = createStripeClient({ secretKey: 'sk_live_webhookEndpoints0123456789', apiBase: api.url }, 'test');
    const err = await invalidRequest(live.webhookEndpoints.create({ url: 'http://billing.example.com/webhooks/stripe', enabled_events: ['invoice.paid'] }));
    expect(err.message).toMatch(/live mode must use HTTPS/);
    await expect(stripe.webhookEndpoints.create({ url: 'http://billing.example.com/webhooks/stripe', enabled_events: ['invoice.paid'] })).resolves.toMatchObject({ livemode: false });
  });

  it("takes the SDK's own lists of event types and API versions", () => {
    const { eventTypes, apiVersions } = webhookCatalog();
    expect(eventTypes.has('*')).toBe(true);
    expect(eventTypes.has('invoice.paid')).toBe(true);
    expect(apiVersions.has(Stripe.API_VERSION)).toBe(true);
  });

  it('answers 401 for a revoked key, its message masking the key, and creates nothing', async () => {
    api.revokeKey(KEY);
    const err = await stripe.webhookEndpoints.create({ url: URL_, enabled_events: ['invoice.paid'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((err as Error).message).toBe('Invalid API Key provided: sk_test_****6789');
    expect(api.webhookEndpoints.size).toBe(0);
    api.reset();
    await expect(stripe.webhookEndpoints.list()).resolves.toMatchObject({ data: [] });
  });
});

describe('idempotent requests', () => {
  const params = { url: URL_, enabled_events: ['invoice.paid'] as EnabledEvent[] };

  it('answers a repeated Idempotency-Key with the first answer, secret included, creating nothing more', async () => {
    const first = await stripe.webhookEndpoints.create(params, { idempotencyKey: 'idem-1' });
    const again = await stripe.webhookEndpoints.create(params, { idempotencyKey: 'idem-1' });
    expect(again).toEqual(first);
    expect(api.webhookEndpoints.size).toBe(1);
    expect(api.requests.map((r) => [r.idempotencyKey, r.replayed ?? false])).toEqual([
      ['idem-1', false],
      ['idem-1', true],
    ]);
    const other = await stripe.webhookEndpoints.create(params, { idempotencyKey: 'idem-2' });
    expect(other.id).not.toBe(first.id);
  });

  it('refuses the same key with other parameters (idempotency_error)', async () => {
    await stripe.webhookEndpoints.create(params, { idempotencyKey: 'idem-3' });
    const err = await stripe.webhookEndpoints.create({ ...params, description: 'changed' }, { idempotencyKey: 'idem-3' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((err as Error).message).toMatch(/same parameters/);
    expect(api.webhookEndpoints.size).toBe(1);
  });

  it('keeps nothing for a request a failNext cut off: the retry with the same key acts', async () => {
    api.failNext(500, 1, { path: '/v1/webhook_endpoints', method: 'POST' });
    await expect(stripe.webhookEndpoints.create(params, { idempotencyKey: 'idem-4' })).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(api.webhookEndpoints.size).toBe(0);
    await expect(stripe.webhookEndpoints.create(params, { idempotencyKey: 'idem-4' })).resolves.toMatchObject({ url: URL_ });
    expect(api.webhookEndpoints.size).toBe(1);
  });
});

describe('GET /v1/webhook_endpoints', () => {
  it('lists newest first in pages, with has_more and starting_after', async () => {
    const T0 = 1_760_000_000;
    const all = Array.from({ length: 25 }, (_, i) => webhookEndpointObject({ id: `we_list${String(i).padStart(2, '0')}`, created: T0 + i }));
    api.webhookEndpoints.put(...all);
    const newestFirst = all.map((e) => e['id'] as string).reverse();
    const p1 = await stripe.webhookEndpoints.list({ limit: 10 });
    expect(p1).toMatchObject({ object: 'list', url: '/v1/webhook_endpoints', has_more: true });
    expect(p1.data.map((e) => e.id)).toEqual(newestFirst.slice(0, 10));
    const p3 = await stripe.webhookEndpoints.list({ limit: 10, starting_after: newestFirst[19]! });
    expect(p3.data.map((e) => e.id)).toEqual(newestFirst.slice(20));
    expect(p3.has_more).toBe(false);
    const seen: string[] = [];
    for await (const e of stripe.webhookEndpoints.list({ limit: 7 })) seen.push(e.id);
    expect(seen).toEqual(newestFirst);
  });

  it('lists only the endpoints of the key’s mode', async () => {
    api.webhookEndpoints.put(webhookEndpointObject({ id: 'we_test' }), webhookEndpointObject({ id: 'we_live', livemode: true }));
    const live = createStripeClient({ secretKey: 'rk_live_webhookEndpoints0123456789', apiBase: api.url }, 'test');
    expect((await live.webhookEndpoints.list()).data.map((e) => e.id)).toEqual(['we_live']);
    expect((await stripe.webhookEndpoints.list()).data.map((e) => e.id)).toEqual(['we_test']);
  });

  it('refuses filters Stripe does not have, and answers 404 for an unknown endpoint', async () => {
    const err = await invalidRequest(stripe.webhookEndpoints.list({ created: 5 } as Stripe.WebhookEndpointListParams));
    expect(err.param).toBe('created');
    const missing = await invalidRequest(stripe.webhookEndpoints.retrieve('we_missing'));
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing', message: "No such webhook_endpoint: 'we_missing'" });
  });
});
