/**
 * The test-only Stripe API server, driven through the real `stripe` SDK exactly as the product
 * drives it: if these pass, a test that passes against this server talks Stripe's wire format.
 */
import Stripe from 'stripe';
import { createStripeClient } from '../../src/stripe/api-client';
import { objectFetcher } from '../../src/stripe-objects/registry';
import { withBackoff } from '../../src/stripe/with-backoff';
import { chargeObject, creditNoteObject, customerObject, invoicePaymentObject, refundObject } from '../support/stripe-api/objects';
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

describe('the money behind an invoice: invoice payments, charges, refunds, credit notes, customers', () => {
  const asError = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

  it('lists an invoice’s payments newest first, pages them, and filters by payment intent and status', async () => {
    const mine = Array.from({ length: 5 }, (_, i) => invoicePaymentObject('in_mine', { created: T0 + i, status: i === 0 ? 'canceled' : 'paid' }));
    api.invoicePayments.put(...mine, invoicePaymentObject('in_other', { created: T0 + 9 }));
    const newestFirst = ids(mine).reverse();

    const p1 = await stripe.invoicePayments.list({ invoice: 'in_mine', limit: 3 });
    expect(p1).toMatchObject({ object: 'list', url: '/v1/invoice_payments', has_more: true });
    expect(ids(p1.data)).toEqual(newestFirst.slice(0, 3));
    const p2 = await stripe.invoicePayments.list({ invoice: 'in_mine', limit: 3, starting_after: p1.data[2]!.id });
    expect(ids(p2.data)).toEqual(newestFirst.slice(3));
    expect(p2.has_more).toBe(false);
    const all: string[] = [];
    for await (const p of stripe.invoicePayments.list({ invoice: 'in_mine', limit: 2 })) all.push(p.id);
    expect(all).toEqual(newestFirst);

    const pi = (mine[2]!['payment'] as { payment_intent: string }).payment_intent;
    const byIntent = await stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: pi } });
    expect(ids(byIntent.data)).toEqual([mine[2]!['id']]);
    expect((await stripe.invoicePayments.list({ invoice: 'in_mine', status: 'canceled' })).data.map((p) => p.id)).toEqual([mine[0]!['id']]);
    expect((await stripe.invoicePayments.retrieve(mine[1]!['id'] as string)).invoice).toBe('in_mine');
  });

  it('refuses an invoice payment list with neither invoice nor payment, a payment filter without its type, and unknown parameters', async () => {
    expect(await asError(stripe.invoicePayments.list())).toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      param: 'invoice',
      message: 'You must provide one of these parameters: invoice, payment.',
    });
    expect(await asError(stripe.invoicePayments.list({ payment: { payment_intent: 'pi_1' } } as unknown as Stripe.InvoicePaymentListParams))).toMatchObject({
      statusCode: 400,
      param: 'payment[type]',
      message: 'Missing required param: payment[type].',
    });
    expect(await asError(stripe.invoicePayments.list({ invoice: 'in_1', status: 'lost' }))).toMatchObject({ statusCode: 400, param: 'status' });
    expect(await asError(stripe.invoicePayments.list({ invoice: 'in_1', customer: 'cus_1' } as Stripe.InvoicePaymentListParams))).toMatchObject({ statusCode: 400, param: 'customer' });
    expect(await asError(stripe.invoicePayments.list({ invoice: 'in_1', limit: 0 }))).toMatchObject({ statusCode: 400, param: 'limit' });
  });

  it('answers 404 resource_missing for each resource, naming it and the id, and for an unknown cursor', async () => {
    const cases: Array<[Promise<unknown>, string]> = [
      [stripe.charges.retrieve('ch_nope'), "No such charge: 'ch_nope'"],
      [stripe.refunds.retrieve('re_nope'), "No such refund: 're_nope'"],
      [stripe.creditNotes.retrieve('cn_nope'), "No such credit_note: 'cn_nope'"],
      [stripe.invoicePayments.retrieve('inpay_nope'), "No such invoice_payment: 'inpay_nope'"],
      [stripe.customers.retrieve('cus_nope'), "No such customer: 'cus_nope'"],
    ];
    for (const [call, message] of cases) {
      const err = await asError(call);
      expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(err).toMatchObject({ statusCode: 404, code: 'resource_missing', type: 'StripeInvalidRequestError', param: 'id', message });
      expect((err as Stripe.errors.StripeError).raw).toMatchObject({ type: 'invalid_request_error' });
    }
    expect(await asError(stripe.charges.list({ starting_after: 'ch_gone' }))).toMatchObject({ statusCode: 404, param: 'starting_after', message: "No such charge: 'ch_gone'" });
  });

  it('lists the charges of a payment intent and the refunds of a charge, and retrieves each', async () => {
    const charge = chargeObject({ payment_intent: 'pi_paid', amount_refunded: 300, refunded: false, created: T0 });
    api.charges.put(charge, chargeObject({ payment_intent: 'pi_other', created: T0 + 1 }), chargeObject({ created: T0 + 2 }));
    const refunds = [refundObject(charge['id'] as string, { amount: 100, created: T0 + 5 }), refundObject(charge['id'] as string, { amount: 200, created: T0 + 6 })];
    api.refunds.put(...refunds, refundObject('ch_else', { created: T0 + 7 }));

    const listed = await stripe.charges.list({ payment_intent: 'pi_paid' });
    expect(listed).toMatchObject({ object: 'list', url: '/v1/charges', has_more: false });
    expect(ids(listed.data)).toEqual([charge['id']]);
    expect(await stripe.charges.list({ limit: 100 }).then((l) => l.data.length)).toBe(3);
    expect(await stripe.charges.retrieve(charge['id'] as string)).toMatchObject({ amount_refunded: 300, receipt_url: charge['receipt_url'] });

    const ofCharge = await stripe.refunds.list({ charge: charge['id'] as string, limit: 1 });
    expect(ofCharge).toMatchObject({ url: '/v1/refunds', has_more: true });
    expect(ids(ofCharge.data)).toEqual([refunds[1]!['id']]);
    expect((await stripe.refunds.retrieve(refunds[0]!['id'] as string)).amount).toBe(100);
    expect(await asError(stripe.charges.list({ invoice: 'in_1' } as Stripe.ChargeListParams))).toMatchObject({ statusCode: 400, param: 'invoice' });
    expect(await asError(stripe.refunds.list({ created: { after: 5 } } as unknown as Stripe.RefundListParams))).toMatchObject({ statusCode: 400, param: 'created[after]' });
  });

  it('embeds at most 10 of a charge’s refunds, listed or retrieved, with has_more beyond; GET /v1/refunds?charge= has them all', async () => {
    const chargeId = 'ch_many_refunds';
    const refunds = Array.from({ length: 12 }, (_, i) => refundObject(chargeId, { amount: 10, created: T0 + 12 - i }));
    const embedded = (data: unknown[]) => ({ object: 'list', data, has_more: false, url: `/v1/charges/${chargeId}/refunds` });
    api.charges.put(chargeObject({ id: chargeId, payment_intent: 'pi_many', amount_refunded: 120, created: T0, refunds: embedded(refunds) }));
    api.charges.put(chargeObject({ payment_intent: 'pi_few', created: T0, refunds: embedded(refunds.slice(0, 10)) }));
    api.refunds.put(...refunds);

    const retrieved = await stripe.charges.retrieve(chargeId, { expand: ['refunds'] });
    expect(retrieved.refunds).toMatchObject({ object: 'list', has_more: true, url: `/v1/charges/${chargeId}/refunds` });
    expect(ids(retrieved.refunds!.data)).toEqual(refunds.slice(0, 10).map((r) => r['id']));
    const [listed] = (await stripe.charges.list({ payment_intent: 'pi_many', expand: ['data.refunds'] })).data;
    expect(listed!.refunds).toMatchObject({ has_more: true });
    expect(listed!.refunds!.data).toHaveLength(10);
    // Ten fit: nothing more to ask for.
    const [few] = (await stripe.charges.list({ payment_intent: 'pi_few', expand: ['data.refunds'] })).data;
    expect(few!.refunds).toMatchObject({ has_more: false });
    expect(few!.refunds!.data).toHaveLength(10);
    // What the test stored is left whole.
    expect((api.charges.get(chargeId)!['refunds'] as { data: unknown[] }).data).toHaveLength(12);

    const all = await stripe.refunds.list({ charge: chargeId, limit: 100 });
    expect(all).toMatchObject({ has_more: false });
    expect(ids(all.data)).toEqual(refunds.map((r) => r['id']));
  });

  it('lists an invoice’s credit notes and retrieves one', async () => {
    const notes = [creditNoteObject('in_credited', { created: T0 }), creditNoteObject('in_credited', { created: T0 + 1 })];
    api.creditNotes.put(...notes, creditNoteObject('in_else', { created: T0 + 2 }));
    const listed = await stripe.creditNotes.list({ invoice: 'in_credited' });
    expect(listed).toMatchObject({ object: 'list', url: '/v1/credit_notes', has_more: false });
    expect(ids(listed.data)).toEqual(ids(notes).reverse());
    expect(await stripe.creditNotes.retrieve(notes[0]!['id'] as string)).toMatchObject({ invoice: 'in_credited', type: 'post_payment', amount: 500 });
    expect(await asError(stripe.creditNotes.list({ invoice: 'in_credited', limit: 101 }))).toMatchObject({ statusCode: 400, param: 'limit' });
  });

  it('answers a deleted customer with its stub, as Stripe does, and has no customer list here', async () => {
    const kept = customerObject();
    const gone = customerObject();
    api.customers.put(kept, gone);
    expect(api.customers.delete(gone['id'] as string)).toBe(true);
    expect(await stripe.customers.retrieve(kept['id'] as string)).toMatchObject({ id: kept['id'], email: 'ada@example.com' });
    const stub = await stripe.customers.retrieve(gone['id'] as string);
    expect({ ...stub, lastResponse: undefined }).toEqual({ id: gone['id'], object: 'customer', deleted: true, lastResponse: undefined });
    expect(await asError(stripe.customers.list())).toMatchObject({ statusCode: 404, message: expect.stringMatching(/^Unrecognized request URL \(GET: \/v1\/customers\)/) });
  });

  it('records the connected account each request is made as (Stripe-Account)', async () => {
    const charge = chargeObject();
    api.charges.putAs('acct_1Connected', charge);
    await stripe.charges.retrieve(charge['id'] as string, {}, { stripeAccount: 'acct_1Connected' });
    await stripe.invoicePayments.list({ invoice: 'in_1' }, { stripeAccount: 'acct_1Connected' });
    await stripe.creditNotes.list({ invoice: 'in_1' });
    expect(api.requests.map((r) => [r.path, r.account])).toEqual([
      [`/v1/charges/${charge['id'] as string}`, 'acct_1Connected'],
      ['/v1/invoice_payments', 'acct_1Connected'],
      ['/v1/credit_notes', undefined],
    ]);
  });

  it('fails only the requests whose path a failNext names, in the order queued', async () => {
    api.failNext(503, 1, { path: '/v1/charges' });
    api.failNext(500, 1);
    expect(await asError(stripe.invoices.list())).toMatchObject({ statusCode: 500 });
    expect((await stripe.invoices.list()).data).toEqual([]);
    expect(await asError(stripe.charges.list())).toMatchObject({ statusCode: 503 });
    expect((await stripe.charges.list()).data).toEqual([]);
    expect(() => api.failNext(500, 1, { path: 'charges' })).toThrow(RangeError);
  });
});

describe('event type wildcards, for every kind’s pattern', () => {
  it('matches as Stripe does: charge.* takes disputes and refund updates, customer.* subscriptions, and no prefix spills into another', async () => {
    const types = [
      'invoice.paid',
      'invoice_payment.paid',
      'charge.succeeded',
      'charge.refunded',
      'charge.refund.updated',
      'charge.dispute.created',
      'refund.created',
      'refund.updated',
      'credit_note.created',
      'credit_note.voided',
      'customer.updated',
      'customer.deleted',
      'customer.subscription.created',
      'customer.tax_id.created',
    ];
    api.events.add(...types.map((type, i) => event(type, { id: `obj_${i}`, object: type.split('.')[0]! }, { id: `evt_w${i}`, created: T0 + i })));
    const typesOf = async (type: string) => (await stripe.events.list({ type, limit: 100 })).data.map((e) => e.type).sort();
    expect(await typesOf('charge.*')).toEqual(['charge.dispute.created', 'charge.refund.updated', 'charge.refunded', 'charge.succeeded']);
    expect(await typesOf('customer.*')).toEqual(['customer.deleted', 'customer.subscription.created', 'customer.tax_id.created', 'customer.updated']);
    expect(await typesOf('invoice_payment.*')).toEqual(['invoice_payment.paid']);
    expect(await typesOf('invoice.*')).toEqual(['invoice.paid']);
    expect(await typesOf('refund.*')).toEqual(['refund.created', 'refund.updated']);
    expect(await typesOf('credit_note.*')).toEqual(['credit_note.created', 'credit_note.voided']);
    expect(await typesOf('charge.dispute.*')).toEqual(['charge.dispute.created']);
  });
});
