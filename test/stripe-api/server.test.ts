/**
 * The test-only Stripe API server, driven through the real `stripe` SDK exactly as the product
 * drives it: if these pass, a test that passes against this server talks Stripe's wire format.
 */
import Stripe from 'stripe';
import { createStripeClient } from '../../src/stripe/api-client';
import { objectFetcher } from '../../src/stripe-objects/registry';
import { withBackoff } from '../../src/stripe/with-backoff';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { event, invoice } from '../support/stripe-events';

const KEY = 'sk_test_serverTest0123456789';
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

const T0 = 1_760_000_000;

/** n invoice.paid events one second apart, oldest first; Stripe lists them newest first. */
function addEvents(n: number, type = 'invoice.paid', start = T0) {
  const events = Array.from({ length: n }, (_, i) =>
    event(type, invoice({ id: `in_${type.replace(/\W/g, '')}${i}` }), { id: `evt_${type.replace(/\W/g, '')}_${String(i).padStart(3, '0')}`, created: start + i }),
  );
  api.events.add(...events);
  return events;
}

const ids = (list: Array<{ id?: unknown }>) => list.map((x) => x.id as string);

describe('list pagination', () => {
  it('pages newest first with has_more and starting_after', async () => {
    const events = addEvents(25);
    const newestFirst = ids(events).reverse();
    const p1 = await stripe.events.list({ limit: 10 });
    expect(p1.object).toBe('list');
    expect(p1.url).toBe('/v1/events');
    expect(ids(p1.data)).toEqual(newestFirst.slice(0, 10));
    expect(p1.has_more).toBe(true);
    const p2 = await stripe.events.list({ limit: 10, starting_after: p1.data[9]!.id });
    expect(ids(p2.data)).toEqual(newestFirst.slice(10, 20));
    expect(p2.has_more).toBe(true);
    const p3 = await stripe.events.list({ limit: 10, starting_after: p2.data[9]!.id });
    expect(ids(p3.data)).toEqual(newestFirst.slice(20));
    expect(p3.has_more).toBe(false);
    expect(api.requests.map((r) => r.query['starting_after'] ?? null)).toEqual([null, p1.data[9]!.id, p2.data[9]!.id]);
  });

  it('auto-paginates through the SDK (for await and autoPagingToArray)', async () => {
    const events = addEvents(23);
    const seen: string[] = [];
    for await (const e of stripe.events.list({ limit: 5 })) seen.push(e.id);
    expect(seen).toEqual(ids(events).reverse());
    expect(api.requests).toHaveLength(5);
    const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1000 });
    expect(all).toHaveLength(23);
  });

  it('pages with ending_before backwards, and refuses both cursors at once', async () => {
    const newestFirst = ids(addEvents(6)).reverse();
    const page = await stripe.events.list({ limit: 2, ending_before: newestFirst[4]! });
    expect(ids(page.data)).toEqual(newestFirst.slice(2, 4));
    expect(page.has_more).toBe(true);
    await expect(stripe.events.list({ starting_after: newestFirst[0]!, ending_before: newestFirst[3]! })).rejects.toThrow(
      /only specify one of these parameters/,
    );
  });

  it('answers an unknown cursor (404) and a limit out of range (400) as Stripe does, naming the parameter', async () => {
    addEvents(2);
    const unknownCursor = await stripe.events.list({ starting_after: 'evt_nope' }).catch((e: unknown) => e);
    expect(unknownCursor).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(unknownCursor).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'starting_after' });
    const tooMany = await stripe.events.list({ limit: 101 }).catch((e: unknown) => e);
    expect(tooMany).toMatchObject({ type: 'StripeInvalidRequestError', param: 'limit', statusCode: 400 });
  });
});

describe('filters', () => {
  it('matches type wildcards (invoice.* is not invoice_payment.* or customer.*) and exact types[]', async () => {
    addEvents(3, 'invoice.paid');
    addEvents(2, 'invoice.finalized');
    api.events.add(
      event('invoice_payment.paid', { id: 'inpay_1', object: 'invoice_payment' }, { id: 'evt_inpay', created: T0 }),
      event('customer.created', { id: 'cus_1', object: 'customer' }, { id: 'evt_cus', created: T0 }),
    );
    const wildcard = await stripe.events.list({ type: 'invoice.*', limit: 100 });
    expect(wildcard.data.map((e) => e.type).sort()).toEqual(['invoice.finalized', 'invoice.finalized', 'invoice.paid', 'invoice.paid', 'invoice.paid']);
    const exact = await stripe.events.list({ types: ['invoice.finalized', 'customer.created'], limit: 100 });
    expect(exact.data.map((e) => e.type).sort()).toEqual(['customer.created', 'invoice.finalized', 'invoice.finalized']);
    await expect(stripe.events.list({ type: 'invoice.*', types: ['invoice.paid'] })).rejects.toThrow(/one of these parameters: type, types/);
  });

  it('filters events and invoices by created, bounds included', async () => {
    const events = addEvents(10);
    const inRange = await stripe.events.list({ created: { gte: T0 + 2, lte: T0 + 5 }, limit: 100 });
    expect(ids(inRange.data)).toEqual(ids(events.slice(2, 6)).reverse());
    const strict = await stripe.events.list({ created: { gt: T0 + 2, lt: T0 + 5 }, limit: 100 });
    expect(strict.data).toHaveLength(2);
    const exact = await stripe.events.list({ created: T0 + 7 });
    expect(ids(exact.data)).toEqual([events[7]!['id']]);

    api.invoices.put(
      invoice({ id: 'in_old', created: T0 - 100, status: 'paid' }),
      invoice({ id: 'in_new', created: T0 + 100, status: 'open' }),
      invoice({ id: 'in_mid', created: T0, status: 'open' }),
    );
    const invoices = await stripe.invoices.list({ created: { gte: T0 }, limit: 100 });
    expect(ids(invoices.data)).toEqual(['in_new', 'in_mid']);
    const open = await stripe.invoices.list({ status: 'open', created: { lte: T0 } });
    expect(ids(open.data)).toEqual(['in_mid']);
  });

  it('refuses an unknown parameter with 400 naming it', async () => {
    const err = await stripe.events.list({ colour: 'blue' } as Stripe.EventListParams).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'StripeInvalidRequestError', param: 'colour', statusCode: 400 });
  });
});

describe('errors', () => {
  it("maps a 404 to the SDK's StripeInvalidRequestError with Stripe's error body", async () => {
    const err = await stripe.invoices.retrieve('in_missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      param: 'id',
      message: "No such invoice: 'in_missing'",
      doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
    });
    expect((err as Stripe.errors.StripeError).requestId).toMatch(/^req_[A-Za-z0-9]{14}$/);
    // The product's fetcher turns exactly this into "no such invoice".
    expect(await objectFetcher(stripe)('invoice', 'in_missing', null)).toBeNull();
  });

  it('retrieves a stored invoice and event by id', async () => {
    api.invoices.put(invoice({ id: 'in_here', status: 'open' }));
    expect((await stripe.invoices.retrieve('in_here')).status).toBe('open');
    const [e] = addEvents(1);
    expect((await stripe.events.retrieve(e!['id'] as string)).type).toBe('invoice.paid');
  });

  it('answers 401 without a key, through the SDK and on the wire', async () => {
    const keyless = new Stripe(undefined as unknown as string, {
      authenticator: async () => undefined,
      host: '127.0.0.1',
      port: api.port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const err = await keyless.events.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((err as Error).message).toMatch(/You did not provide an API key/);

    const res = await fetch(`${api.url}/v1/events`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });

  it('refuses a publishable key and masks it in the message', async () => {
    const pk = createStripeClient({ secretKey: 'pk_test_abcdefghijklmnop1234', apiBase: api.url }, 'test');
    const err = await pk.events.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((err as Error).message).toContain('pk_test_****1234');
    expect((err as Error).message).not.toContain('abcdefghijklmnop');
  });
});

describe('failNext', () => {
  it('answers 429 as a rate limit, then serves normally', async () => {
    addEvents(1);
    api.failNext(429, 1);
    const err = await stripe.events.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(err).toMatchObject({ statusCode: 429, code: 'rate_limit' });
    expect((await stripe.events.list()).data).toHaveLength(1);
  });

  it('answers 500 and 503 as API errors, in the order queued', async () => {
    api.failNext(500, 1);
    api.failNext(503, 1);
    const first = await stripe.events.list().catch((e: unknown) => e);
    const second = await stripe.events.list().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(first).toMatchObject({ statusCode: 500 });
    expect(second).toMatchObject({ statusCode: 503, message: expect.stringMatching(/temporarily unavailable/) });
    expect(api.requests.map((r) => r.status)).toEqual([500, 503]);
  });

  it('is ridden out by withBackoff, which retries 429 and 5xx and then returns the page', async () => {
    addEvents(3);
    api.failNext(429, 1);
    api.failNext(500, 2);
    const retries: string[] = [];
    const page = await withBackoff(() => stripe.events.list({ limit: 10 }), { baseMs: 1, onRetry: (_a, _d, reason) => retries.push(reason) });
    expect(page.data).toHaveLength(3);
    expect(retries).toHaveLength(3);
    expect(api.requests.map((r) => r.status)).toEqual([429, 500, 500, 200]);
  });

  it('lets withBackoff give up after its attempts, and never retries a 4xx', async () => {
    api.failNext(503, 5);
    await expect(withBackoff(() => stripe.events.list(), { attempts: 3, baseMs: 1 })).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(api.requests).toHaveLength(3);
    api.reset();
    await expect(withBackoff(() => stripe.invoices.retrieve('in_gone'), { baseMs: 1 })).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(api.requests).toHaveLength(1);
  });
});
