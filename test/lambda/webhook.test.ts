import net from 'node:net';
import { LambdaRuntime } from '../../src/lambda/runtime';
import { webhookHandler } from '../../src/lambda/webhook';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, sign, TEST_SECRET, uid } from '../support/stripe-events';
import { captureLogs, httpApiEvent, lambdaContext, noAwsStores, takeAll } from './events';

let sqs: TestSqs;
let rt: LambdaRuntime;
let logs: ReturnType<typeof captureLogs>;

const baseEnv = (sqsServer: TestSqs, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  AWS_REGION: 'us-east-1',
  SQS_QUEUE_URL: sqsServer.queueUrl,
  SQS_DLQ_URL: sqsServer.dlqUrl,
  AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
  STRIPE_WEBHOOK_SECRET: TEST_SECRET,
  WEBHOOK_MAX_BODY_BYTES: String(64 * 1024),
  LOG_LEVEL: 'info',
  ...extra,
});

beforeAll(async () => {
  sqs = await startTestSqs();
  logs = captureLogs();
  rt = new LambdaRuntime({ env: baseEnv(sqs), stores: noAwsStores, logDestination: logs.destination });
});
afterAll(async () => {
  await rt?.close();
  await sqs?.stop();
});
afterEach(async () => {
  // Each test starts from an empty queue so it can count what it enqueued.
  await takeAll(sqs.client, sqs.queueUrl);
});

const invoke = (e: ReturnType<typeof httpApiEvent>, runtime = rt) => webhookHandler(runtime)(e, lambdaContext('webhook'));
const bodyOf = (r: { body?: string }) => JSON.parse(r.body ?? '{}') as Record<string, unknown>;

/** A finalized invoice whose customer has non-ASCII names: any re-encoding of the bytes breaks the signature. */
function finalizedEvent(): { payload: string; id: string } {
  const id = uid('in');
  const e = event('invoice.finalized', invoice({ id, status: 'open', customer_name: 'Zoë Ōtsuka — 株式会社 🚀', metadata: { note: 'ümlaut "quoted" \\ slash' } }));
  // Stripe's pretty-printed JSON, not JSON.stringify's compact form: the exact bytes are what count.
  return { payload: JSON.stringify(e, null, 2), id };
}

describe('the webhook function (API Gateway HTTP API v2 events)', () => {
  it('enqueues a verified event from a plain body, byte for byte', async () => {
    const { payload } = finalizedEvent();
    const r = await invoke(httpApiEvent(payload, { 'stripe-signature': sign(payload, TEST_SECRET) }));
    expect(r.statusCode).toBe(200);
    expect(r.headers?.['content-type']).toMatch(/^application\/json/);
    expect(bodyOf(r)).toEqual({ received: true });
    expect(await takeAll(sqs.client, sqs.queueUrl)).toEqual([payload]);
  });

  it('verifies a base64-encoded body over the decoded bytes', async () => {
    const { payload } = finalizedEvent();
    const r = await invoke(httpApiEvent(payload, { 'stripe-signature': sign(payload, TEST_SECRET) }, { base64: true }));
    expect(r.statusCode).toBe(200);
    expect(await takeAll(sqs.client, sqs.queueUrl)).toEqual([payload]);
  });

  it('finds the signature header whatever its case (direct invocations keep it)', async () => {
    const { payload } = finalizedEvent();
    const e = httpApiEvent(payload, {});
    e.headers = { ...e.headers, 'Stripe-Signature': sign(payload, TEST_SECRET) };
    expect((await invoke(e)).statusCode).toBe(200);
  });

  it.each([
    ['plain', false],
    ['base64', true],
  ])('answers 400 to a bad signature (%s body) and enqueues nothing', async (_kind, base64) => {
    const { payload } = finalizedEvent();
    const wrong = sign(payload, 'whsec_someone_elses_secret_0123456789');
    const r = await invoke(httpApiEvent(payload, { 'stripe-signature': wrong }, { base64 }));
    expect(r.statusCode).toBe(400);
    expect(String(bodyOf(r)['error'])).toMatch(/No v1 signature matches/);
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it('answers 400 to a body altered after signing (the base64 text is not the signed bytes)', async () => {
    const { payload } = finalizedEvent();
    const e = httpApiEvent(payload, { 'stripe-signature': sign(payload, TEST_SECRET) }, { base64: true });
    // A gateway that forgot to say the body is base64: the function must not verify the encoded text.
    e.isBase64Encoded = false;
    expect((await invoke(e)).statusCode).toBe(400);
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it('answers 400 without a signature header', async () => {
    const { payload } = finalizedEvent();
    const r = await invoke(httpApiEvent(payload, {}));
    expect(r.statusCode).toBe(400);
    expect(bodyOf(r)).toEqual({ error: 'Missing Stripe-Signature header' });
  });

  it.each([
    ['plain', false],
    ['base64', true],
  ])('answers 413 to an oversized %s body, signed or not, and enqueues nothing', async (_kind, base64) => {
    const id = uid('in');
    const big = JSON.stringify(event('invoice.updated', invoice({ id, metadata: { filler: 'x'.repeat(70 * 1024) } })));
    const r = await invoke(httpApiEvent(big, { 'stripe-signature': sign(big, TEST_SECRET) }, { base64 }));
    expect(r.statusCode).toBe(413);
    expect(bodyOf(r)).toEqual({ error: `Body larger than ${64 * 1024} bytes` });
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it('answers 200 to verified events it ignores, without enqueueing them', async () => {
    for (const e of [
      event('customer.subscription.created', { id: uid('sub'), object: 'subscription' }),
      event('invoice.upcoming', invoice({ id: undefined })),
    ]) {
      const payload = JSON.stringify(e);
      const r = await invoke(httpApiEvent(payload, { 'stripe-signature': sign(payload, TEST_SECRET) }));
      expect(r.statusCode).toBe(200);
      expect(bodyOf(r)).toEqual({ received: true, ignored: true });
    }
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it('answers 503 while the queue is unreachable, so Stripe retries', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const endpoint = `http://127.0.0.1:${closedPort}`;
    const down = new LambdaRuntime({
      env: baseEnv(sqs, { AWS_ENDPOINT_URL_SQS: endpoint, SQS_QUEUE_URL: `${endpoint}/000000000000/gone`, SQS_DLQ_URL: `${endpoint}/000000000000/gone-dlq` }),
      stores: noAwsStores,
      logDestination: captureLogs().destination,
    });
    try {
      const { payload } = finalizedEvent();
      const r = await invoke(httpApiEvent(payload, { 'stripe-signature': sign(payload, TEST_SECRET) }), down);
      expect(r.statusCode).toBe(503);
      expect(bodyOf(r)).toEqual({ error: 'Queue unavailable; retry later' });
    } finally {
      await down.close();
    }
  });

  it('fails the invocation (API Gateway answers 5xx, Stripe retries) when no webhook secret is configured', async () => {
    const bare = new LambdaRuntime({ env: baseEnv(sqs, { STRIPE_WEBHOOK_SECRET: '' }), stores: noAwsStores, logDestination: captureLogs().destination });
    const { payload } = finalizedEvent();
    await expect(invoke(httpApiEvent(payload, { 'stripe-signature': sign(payload, TEST_SECRET) }), bare)).rejects.toThrow(
      /STRIPE_WEBHOOK_SECRET is not set/,
    );
    await bare.close();
  });

  it('never writes the webhook secret or the signature to its logs', async () => {
    const { payload } = finalizedEvent();
    const header = sign(payload, TEST_SECRET);
    await invoke(httpApiEvent(payload, { 'stripe-signature': header }));
    await invoke(httpApiEvent(payload, { 'stripe-signature': header.replace(/v1=./, 'v1=0') }));
    const text = logs.text();
    expect(logs.lines().some((l) => l['outcome'] === 'enqueued')).toBe(true);
    expect(logs.lines().some((l) => l['outcome'] === 'rejected')).toBe(true);
    expect(text).not.toContain(TEST_SECRET);
    expect(text).not.toContain(header.split('v1=')[1]!);
  });
});
