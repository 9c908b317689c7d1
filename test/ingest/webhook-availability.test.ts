import { EventQueue } from '../../src/queue/event-queue';
import { createSqsClient } from '../../src/queue/sqs-client';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { TEST_SECRET, event, invoice, sign, uid } from '../support/stripe-events';
import { closedPort, drain, expectErrorBody, expectNoSecretIn, get, postWebhook, serveApp, type RunningApp } from './harness';

const handledPayload = () => JSON.stringify(event('invoice.paid', invoice({ id: uid('in') })));

describe('queue cannot take the event', () => {
  let sqs: TestSqs;
  beforeAll(async () => {
    sqs = await startTestSqs();
  });
  afterAll(async () => {
    await sqs?.stop();
  });

  it('answers 503 when the queue endpoint refuses connections', async () => {
    const port = await closedPort();
    const endpoint = `http://127.0.0.1:${port}`;
    const client = createSqsClient({ region: 'us-east-1', endpoint });
    const app = await serveApp({ queue: new EventQueue(client, `${endpoint}/000000000000/stripe-billing-events`) });
    try {
      const payload = handledPayload();
      const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
      expect(expectErrorBody(res, 503)).toMatch(/queue|retry/i);
      expectNoSecretIn(res.text, [TEST_SECRET]);
    } finally {
      await app.close();
      client.destroy();
    }
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it('answers 503 when the queue does not exist, and the real queue stays empty', async () => {
    const missing = sqs.queueUrl.replace(/[^/]+$/, 'no-such-queue');
    const app = await serveApp({ queue: new EventQueue(sqs.client, missing) });
    try {
      const payload = handledPayload();
      const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
      expectErrorBody(res, 503);
    } finally {
      await app.close();
    }
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
    expect(await depth(sqs.client, sqs.dlqUrl)).toBe(0);
  });

  it('does not answer 200 before SendMessage has failed or succeeded', async () => {
    // A queue that never settles: the answer must wait for it rather than acknowledge early.
    let release: (() => void) | undefined;
    const pending = new Promise<{ messageId: string; slimmed: boolean }>((_resolve, reject) => {
      release = () => reject(new Error('gave up'));
    });
    // The handler has reached the queue once send is called: the request has been read and
    // verified, so any answer from here on could only come from not waiting.
    let sendCalled: () => void = () => undefined;
    const sending = new Promise<void>((resolve) => (sendCalled = resolve));
    const app = await serveApp({ queue: { send: () => (sendCalled(), pending) } });
    try {
      const payload = handledPayload();
      let answered = false;
      const answer = postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET)).finally(() => (answered = true));
      await sending;
      // A request answered after it: an answer the server had written without waiting for the
      // queue would have reached the client by then.
      expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
      expect(answered).toBe(false);
      release?.();
      expectErrorBody(await answer, 503);
    } finally {
      await app.close();
    }
  });
});

describe('queue server stops', () => {
  let sqs: TestSqs;
  let app: RunningApp;
  let queue: EventQueue;
  beforeAll(async () => {
    sqs = await startTestSqs();
    queue = new EventQueue(sqs.client, sqs.queueUrl);
    app = await serveApp({ queue, readiness: () => queue.ping() });
  });
  afterAll(async () => {
    await app?.close();
    await sqs?.stop();
  });

  it('is ready and enqueues while the server runs', async () => {
    expect((await get(app.baseUrl, '/readyz')).status).toBe(200);
    const payload = handledPayload();
    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(res.json).toEqual({ received: true });
    expect(await drain(sqs.client, sqs.queueUrl)).toEqual([payload]);
  });

  it('answers 503 to a webhook and to /readyz once the server is gone, /healthz stays 200', async () => {
    await sqs.stop();
    const payload = handledPayload();
    const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
    expectErrorBody(res, 503);

    const ready = await get(app.baseUrl, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json?.['status']).toBe('not ready');

    const health = await get(app.baseUrl, '/healthz');
    expect(health.status).toBe(200);
  });
});

describe('health and readiness', () => {
  let app: RunningApp;
  let readiness: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    app = await serveApp({
      queue: { send: async () => ({ messageId: 'unused', slimmed: false }) },
      readiness: () => readiness(),
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('GET /healthz is 200', async () => {
    const res = await get(app.baseUrl, '/healthz');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 when readiness resolves', async () => {
    readiness = async () => undefined;
    const res = await get(app.baseUrl, '/readyz');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ready' });
  });

  it('GET /readyz is 503 when readiness rejects, and /healthz is unaffected', async () => {
    readiness = async () => {
      throw new Error('database unreachable');
    };
    const res = await get(app.baseUrl, '/readyz');
    expect(res.status).toBe(503);
    expect(res.json?.['status']).toBe('not ready');
    expect((await get(app.baseUrl, '/healthz')).status).toBe(200);
  });
});
