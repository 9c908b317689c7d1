import { EventQueue } from '../../src/queue/event-queue';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { TEST_SECRET, event, fixture, invoice, sign, uid } from '../support/stripe-events';
import { MIB, drain, expectErrorBody, expectNoSecretIn, postChunked, postWebhook, serveApp, type RunningApp } from './harness';

interface EventTypeFixture {
  event_types: Array<{ type: string; data_object_type: string }>;
}

const allTypes = fixture<EventTypeFixture>('current_invoice_event_types.json').event_types;
const handledTypes = allTypes.filter((t) => t.type.startsWith('invoice.') && t.data_object_type === 'Invoice' && t.type !== 'invoice.upcoming').map((t) => t.type);

// The test queue's MaximumMessageSize and the webhook's default body limit.
const QUEUE_MAX = 1_048_576;
const BODY_LIMIT = 2 * MIB;

type Json = Record<string, unknown>;

/** An invoice with `count` distinct line items, as a very large subscription invoice would carry. */
function invoiceWithLines(id: string, count: number, overrides: Json = {}): Json {
  const base = invoice({ id, ...overrides });
  const lines = base['lines'] as { data: Json[] };
  const template = lines.data[0]!;
  lines.data = Array.from({ length: count }, (_, i) => ({ ...structuredClone(template), id: `il_${id}_${i}`, invoice: id, amount: 1 }));
  (base['lines'] as Json)['has_more'] = false;
  return base;
}

/** Pads metadata with ASCII so the serialized event is exactly `bytes` long. */
function paddedTo(bytes: number, build: (pad: string) => Json): string {
  const without = JSON.stringify(build(''));
  const missing = bytes - Buffer.byteLength(without, 'utf8');
  if (missing < 0) throw new Error(`event is already ${Buffer.byteLength(without)} bytes, over ${bytes}`);
  const payload = JSON.stringify(build('x'.repeat(missing)));
  expect(Buffer.byteLength(payload, 'utf8')).toBe(bytes);
  return payload;
}

describe('handled invoice events', () => {
  let sqs: TestSqs;
  let app: RunningApp;
  beforeAll(async () => {
    sqs = await startTestSqs();
    app = await serveApp({ queue: new EventQueue(sqs.client, sqs.queueUrl), maxBodyBytes: BODY_LIMIT });
  });
  afterAll(async () => {
    await app?.close();
    await sqs?.stop();
  });
  beforeEach(async () => {
    await drain(sqs.client, sqs.queueUrl);
  });

  it('covers every current invoice event type carrying an Invoice', () => {
    // Guards the loop below against a fixture change that would silently shrink it.
    expect(handledTypes.length).toBeGreaterThanOrEqual(15);
    expect(handledTypes).toEqual(expect.arrayContaining(['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.voided', 'invoice.deleted', 'invoice.updated']));
    expect(handledTypes).not.toContain('invoice.upcoming');
  });

  it.each(handledTypes)('enqueues %s with the exact raw payload before answering 200', async (type) => {
    const payload = JSON.stringify(event(type, invoice({ id: uid('in') })));
    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true });
    // No wait: a 200 must mean SendMessage has already succeeded.
    expect(await drain(sqs.client, sqs.queueUrl)).toEqual([payload]);
  });

  it('enqueues the deleted-invoice stub Stripe sends for invoice.deleted', async () => {
    const payload = JSON.stringify(event('invoice.deleted', { ...fixture('deleted_invoice_fixture.json'), id: uid('in') }));
    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(res.json).toEqual({ received: true });
    expect(await drain(sqs.client, sqs.queueUrl)).toEqual([payload]);
  });

  it('queues the bytes as sent: formatting, key order, escapes and non-ASCII survive', async () => {
    const inv = invoice({ id: uid('in'), customer_name: 'Zoë Ñandú 日本 🧾', description: 'line\nbreak "quoted" \\ slash', metadata: { z: '1', a: '2' } });
    const payload = `{\n  "type" : "invoice.paid",\t"id":"${uid('evt')}",\n  "object":"event", "data": {"object": ${JSON.stringify(inv, null, 3)}},  "created": 1800000000 , "note":"\\u00e9" }\n`;
    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(res.json).toEqual({ received: true });
    expect(await drain(sqs.client, sqs.queueUrl)).toEqual([payload]);
  });

  it('accepts any content type, since Stripe signs bytes, not media types', async () => {
    const payload = JSON.stringify(event('invoice.sent', invoice({ id: uid('in') })));
    const res = await fetch(`${app.baseUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8', 'stripe-signature': sign(payload, TEST_SECRET) },
      body: payload,
    });
    expect(res.status).toBe(200);
    expect(await drain(sqs.client, sqs.queueUrl)).toEqual([payload]);
  });

  it('enqueues an event over the queue limit without its line items, keeping id, type and amounts', async () => {
    const invoiceId = uid('in');
    const original = event('invoice.finalized', invoiceWithLines(invoiceId, 1250, { status: 'open', amount_due: 123_456, amount_paid: 0, amount_remaining: 123_456, total: 123_456, currency: 'eur' }));
    const payload = JSON.stringify(original);
    const size = Buffer.byteLength(payload, 'utf8');
    expect(size).toBeGreaterThan(QUEUE_MAX);
    expect(size).toBeLessThan(BODY_LIMIT);

    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true });

    const bodies = await drain(sqs.client, sqs.queueUrl);
    expect(bodies).toHaveLength(1);
    expect(Buffer.byteLength(bodies[0]!, 'utf8')).toBeLessThanOrEqual(QUEUE_MAX);
    const queued = JSON.parse(bodies[0]!) as Json;
    const obj = (queued['data'] as { object: Json }).object;
    expect(queued['id']).toBe(original['id']);
    expect(queued['type']).toBe('invoice.finalized');
    expect(queued['created']).toBe(original['created']);
    expect(obj).toMatchObject({ id: invoiceId, object: 'invoice', status: 'open', amount_due: 123_456, amount_paid: 0, amount_remaining: 123_456, total: 123_456, currency: 'eur' });
    expect((obj['lines'] as Json)['data']).toEqual([]);
    // Everything but the line items is what Stripe sent.
    const { lines: _sentLines, ...sentRest } = (original['data'] as { object: Json }).object;
    const { lines: _queuedLines, ...queuedRest } = obj;
    expect(queuedRest).toEqual(sentRest);
  });

  it('drops previous_attributes.lines of a huge invoice.updated and keeps the other previous attributes', async () => {
    const invoiceId = uid('in');
    const big = invoiceWithLines(invoiceId, 700);
    const original = event('invoice.updated', big);
    (original['data'] as Json)['previous_attributes'] = { lines: structuredClone(big['lines']), amount_due: 999, status: 'draft' };
    const payload = JSON.stringify(original);
    expect(Buffer.byteLength(payload, 'utf8')).toBeGreaterThan(QUEUE_MAX);
    expect(Buffer.byteLength(payload, 'utf8')).toBeLessThan(BODY_LIMIT);

    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(res.json).toEqual({ received: true });
    const [body] = await drain(sqs.client, sqs.queueUrl);
    const queued = JSON.parse(body!) as { id: string; data: { object: Json; previous_attributes: Json } };
    expect(queued.id).toBe(original['id']);
    expect(queued.data.object['id']).toBe(invoiceId);
    expect(queued.data.previous_attributes).toEqual({ amount_due: 999, status: 'draft' });
  });

  it('queues an event just under the queue limit unchanged', async () => {
    // Slimming is for what does not fit; an event that fits must reach the consumer byte for byte.
    const id = uid('in');
    const payload = paddedTo(QUEUE_MAX - 64, (pad) => event('invoice.paid', invoiceWithLines(id, 900, { metadata: { pad } }), { id: `evt_${id}` }));
    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(res.json).toEqual({ received: true });
    expect(await drain(sqs.client, sqs.queueUrl)).toEqual([payload]);
  });

  it('takes a body of exactly the limit', async () => {
    const id = uid('in');
    const payload = paddedTo(BODY_LIMIT, (pad) => event('invoice.paid', invoiceWithLines(id, 2000, { metadata: { pad } }), { id: `evt_${id}` }));
    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true });
    const bodies = await drain(sqs.client, sqs.queueUrl);
    expect(bodies).toHaveLength(1);
    expect((JSON.parse(bodies[0]!) as { id: string }).id).toBe(`evt_${id}`);
  });

  it('answers 413 for a body one byte over the limit and enqueues nothing', async () => {
    const id = uid('in');
    const payload = paddedTo(BODY_LIMIT + 1, (pad) => event('invoice.paid', invoiceWithLines(id, 2000, { metadata: { pad } })));
    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    const error = expectErrorBody(res, 413);
    expect(error).toMatch(/large|limit|bytes/i);
    expectNoSecretIn(res.text, [TEST_SECRET]);
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it('answers 413 for an over-limit body streamed without Content-Length', async () => {
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    const res = await postChunked(app.baseUrl, Array.from({ length: 9 }, () => chunk), sign('irrelevant', TEST_SECRET));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text)).toHaveProperty('error');
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  });
});

describe('verified events that are not handled', () => {
  let sqs: TestSqs;
  let app: RunningApp;
  beforeAll(async () => {
    sqs = await startTestSqs();
    app = await serveApp({ queue: new EventQueue(sqs.client, sqs.queueUrl) });
  });
  afterAll(async () => {
    await app?.close();
    await sqs?.stop();
  });
  // Isolates the cases: one wrongly enqueued event must fail its own test, not every later one.
  beforeEach(async () => {
    await drain(sqs.client, sqs.queueUrl);
  });

  const upcoming = () => {
    const preview = invoice();
    delete preview['id'];
    return event('invoice.upcoming', preview);
  };

  it.each<[string, () => Record<string, unknown>]>([
    ['customer.subscription.created (a subscription, not a customer)', () => event('customer.subscription.created', { id: uid('sub'), object: 'subscription', customer: uid('cus') })],
    ['charge.dispute.created (a dispute, not a charge)', () => event('charge.dispute.created', { id: uid('dp'), object: 'dispute', charge: uid('ch'), amount: 1000 })],
    ['invoice.upcoming (a preview without id)', upcoming],
    ['invoice.upcoming, even if its preview carried an id', () => event('invoice.upcoming', invoice({ id: uid('upcoming_in') }))],
    ['payment_intent.succeeded', () => event('payment_intent.succeeded', { id: uid('pi'), object: 'payment_intent', amount: 1000 })],
    ['invoiceitem.created', () => event('invoiceitem.created', { id: uid('ii'), object: 'invoiceitem', invoice: uid('in'), amount: 5 })],
  ])('answers 200 ignored for %s and leaves the queue empty', async (_name, build) => {
    const payload = JSON.stringify(build());
    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true, ignored: true });
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  // Only the type decides: an unusable event of a handled type goes to the consumer, which stores
  // it with its reason, rather than being acknowledged here and lost without a trace.
  it.each<[string, () => Record<string, unknown>]>([
    ['a non-invoice object', () => event('invoice.paid', { id: uid('cus'), object: 'customer' })],
    ['an invoice without an id', () => event('invoice.paid', invoice({ id: undefined }))],
    ['an invoice whose id is not a string', () => event('invoice.paid', invoice({ id: 42 as unknown as string }))],
  ])('queues an invoice.* event with %s, for the consumer to store with its reason', async (_name, build) => {
    const payload = JSON.stringify(build());
    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true });
    const queued = await drain(sqs.client, sqs.queueUrl);
    expect(queued.map((b) => JSON.parse(b).id)).toEqual([JSON.parse(payload).id]);
  });

  it('still verifies ignored types: an unsigned customer.subscription.created is 400, not 200', async () => {
    const payload = JSON.stringify(event('customer.subscription.created', { id: uid('sub'), object: 'subscription' }));
    const res = await postWebhook(app.baseUrl, payload, sign(payload, 'whsec_not_the_endpoint_secret_000000000000'));
    expectErrorBody(res, 400);
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  });
});
