import { EventQueue } from '../../src/queue/event-queue';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { TEST_SECRET, event, invoice, sign, uid } from '../support/stripe-events';
import {
  OTHER_SECRET,
  drain,
  expectErrorBody,
  expectNoSecretIn,
  hmacHex,
  postWebhook,
  serveApp,
  signedAt,
  v1Of,
  type Answer,
  type RunningApp,
} from './harness';

// A fixed clock with a fractional second: the age is measured in whole seconds (floor), exactly
// as the SDK does, so the boundaries below are exact and never flaky.
const NOW = 1_800_000_000;
const NOW_MS = NOW * 1000 + 999;
const TOLERANCE = 300;

let sqs: TestSqs;
let app: RunningApp;
// Read on every request, so a test can roll the endpoint's secrets without restarting the app.
let secrets: string[] = [TEST_SECRET];

beforeAll(async () => {
  sqs = await startTestSqs();
  app = await serveApp({
    queue: new EventQueue(sqs.client, sqs.queueUrl),
    secrets: () => secrets,
    toleranceSeconds: TOLERANCE,
    now: () => NOW_MS,
  });
});
afterAll(async () => {
  await app?.close();
  await sqs?.stop();
});
beforeEach(async () => {
  secrets = [TEST_SECRET];
  await drain(sqs.client, sqs.queueUrl);
});

const handledPayload = () => JSON.stringify(event('invoice.finalized', invoice({ id: uid('in') })));

async function expectAccepted(res: Answer, payload: string): Promise<void> {
  expect(res.status).toBe(200);
  expect(res.json).toEqual({ received: true });
  expect(await drain(sqs.client, sqs.queueUrl)).toEqual([payload]);
}

async function expectRejected(res: Answer, message?: RegExp): Promise<string> {
  const error = expectErrorBody(res, 400);
  if (message) expect(error).toMatch(message);
  expectNoSecretIn(res.text, [TEST_SECRET, OTHER_SECRET, ...secrets]);
  expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  return error;
}

describe('secrets and rolling', () => {
  it('accepts a plain signature with the configured secret', async () => {
    const payload = handledPayload();
    await expectAccepted(await postWebhook(app.baseUrl, payload, signedAt(payload, NOW)), payload);
  });

  it.each([
    ['only the new secret', () => [OTHER_SECRET]],
    ['only the old secret', () => [TEST_SECRET]],
  ])('accepts a header with one v1 per secret during a roll when the endpoint knows %s', async (_name, configured) => {
    const payload = handledPayload();
    const oldSig = v1Of(signedAt(payload, NOW, TEST_SECRET));
    const newSig = v1Of(signedAt(payload, NOW, OTHER_SECRET));
    secrets = configured();
    await expectAccepted(await postWebhook(app.baseUrl, payload, `t=${NOW},v1=${oldSig},v1=${newSig}`), payload);
  });

  it.each([
    ['the second', OTHER_SECRET],
    ['the first', TEST_SECRET],
  ])('accepts a header signed with %s of two configured secrets', async (_name, signingSecret) => {
    secrets = [TEST_SECRET, OTHER_SECRET];
    const payload = handledPayload();
    await expectAccepted(await postWebhook(app.baseUrl, payload, signedAt(payload, NOW, signingSecret)), payload);
  });

  it('rejects a header signed with a secret the endpoint does not know', async () => {
    const payload = handledPayload();
    const stranger = 'whsec_someone_else_entirely_0000000000000';
    await expectRejected(await postWebhook(app.baseUrl, payload, signedAt(payload, NOW, stranger)), /secret|signature/i);
  });

  it('rejects everything when no secret is configured', async () => {
    secrets = [];
    const payload = handledPayload();
    await expectRejected(await postWebhook(app.baseUrl, payload, signedAt(payload, NOW)));
  });
});

describe('header forms', () => {
  it('rejects a header that carries only a v0 signature', async () => {
    const payload = handledPayload();
    const sig = v1Of(signedAt(payload, NOW));
    await expectRejected(await postWebhook(app.baseUrl, payload, `t=${NOW},v0=${sig}`), /v1/);
  });

  it.each([
    ['before', (good: string) => `t=${NOW},v1=${'0'.repeat(64)},v1=${good}`],
    ['after', (good: string) => `t=${NOW},v1=${good},v1=${'f'.repeat(64)}`],
  ])('accepts a valid v1 with a bogus v1 %s it', async (_where, header) => {
    const payload = handledPayload();
    await expectAccepted(await postWebhook(app.baseUrl, payload, header(v1Of(signedAt(payload, NOW)))), payload);
  });

  it('rejects a space after the comma, as the SDK does not trim', async () => {
    const payload = handledPayload();
    const sig = v1Of(signedAt(payload, NOW));
    await expectRejected(await postWebhook(app.baseUrl, payload, `t=${NOW}, v1=${sig}`));
  });

  it('rejects a re-serialized body under the original header', async () => {
    const payload = handledPayload();
    const header = signedAt(payload, NOW);
    const reformatted = JSON.stringify(JSON.parse(payload), null, 2);
    expect(reformatted).not.toBe(payload);
    await expectRejected(await postWebhook(app.baseUrl, reformatted, header), /raw body|signature/i);
  });

  it('rejects a non-numeric timestamp with a real signature of another timestamp', async () => {
    const payload = handledPayload();
    const sig = v1Of(signedAt(payload, NOW));
    await expectRejected(await postWebhook(app.baseUrl, payload, `t=abc,v1=${sig}`));
  });

  it('rejects a non-numeric timestamp even when the HMAC matches what the SDK computes for it', async () => {
    // The SDK parses t=abc as NaN, signs over "NaN.<body>" and its age check (NaN > tolerance) is
    // false: only the endpoint's own timestamp check stands between this header and the queue.
    const payload = handledPayload();
    await expectRejected(await postWebhook(app.baseUrl, payload, `t=abc,v1=${hmacHex(`NaN.${payload}`)}`));
  });

  it.each([
    ['garbage', 'not-a-signature'],
    ['no timestamp', `v1=${'a'.repeat(64)}`],
    ['only a timestamp', `t=${NOW}`],
  ])('rejects a malformed header (%s)', async (_name, header) => {
    await expectRejected(await postWebhook(app.baseUrl, handledPayload(), header), /Stripe-Signature|v1/);
  });

  it('rejects a request without the header', async () => {
    await expectRejected(await postWebhook(app.baseUrl, handledPayload(), undefined), /Stripe-Signature/i);
  });

  it('rejects an empty header value', async () => {
    await expectRejected(await postWebhook(app.baseUrl, handledPayload(), ''), /Stripe-Signature/i);
  });
});

describe('timestamp tolerance', () => {
  it.each([
    ['299 s old', NOW - 299],
    ['exactly the tolerance old', NOW - TOLERANCE],
    ['60 s in the future', NOW + 60],
    ['exactly the tolerance in the future', NOW + TOLERANCE],
  ])('accepts a signature %s', async (_name, t) => {
    const payload = handledPayload();
    await expectAccepted(await postWebhook(app.baseUrl, payload, signedAt(payload, t)), payload);
  });

  it('rejects a signature 301 s old', async () => {
    const payload = handledPayload();
    await expectRejected(await postWebhook(app.baseUrl, payload, signedAt(payload, NOW - 301)), /tolerance|old/i);
  });

  it.each([
    ['301 s', NOW + 301],
    ['a day', NOW + 86_400],
  ])('rejects a signature %s in the future', async (_name, t) => {
    const payload = handledPayload();
    await expectRejected(await postWebhook(app.baseUrl, payload, signedAt(payload, t)), /future/i);
  });

  it('rejects a far-future signature even with an extra current t= in front of it', async () => {
    // The SDK takes the last t= for the HMAC and its (past-only) age check; the future bound must
    // judge that same timestamp, or prepending "t=<now>," to a captured future-dated header
    // bypasses it.
    const payload = handledPayload();
    const future = signedAt(payload, NOW + 86_400);
    await expectRejected(await postWebhook(app.baseUrl, payload, `t=${NOW},${future}`), /future|timestamp/i);
  });

  it('rejects a stale signature with an extra current t= after it', async () => {
    const payload = handledPayload();
    const stale = signedAt(payload, NOW - 3600);
    await expectRejected(await postWebhook(app.baseUrl, payload, `${stale},t=${NOW}`));
  });
});

describe('bodies that verify but are not usable', () => {
  it('rejects an empty body', async () => {
    await expectRejected(await postWebhook(app.baseUrl, '', signedAt('', NOW)), /empty/i);
  });

  it('rejects a signed body that is not JSON', async () => {
    const body = 'this is not json {';
    await expectRejected(await postWebhook(app.baseUrl, body, signedAt(body, NOW)), /JSON/);
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"evt_123"'],
    ['null', 'null'],
    ['a number', '42'],
    ['an object that is no event', '{"hello":"world"}'],
    ['an event without data', JSON.stringify({ id: 'evt_1', object: 'event', type: 'invoice.paid' })],
    ['an event whose data.object is null', JSON.stringify({ id: 'evt_1', object: 'event', type: 'invoice.paid', data: { object: null } })],
    ['an event without a type', JSON.stringify({ id: 'evt_1', object: 'event', data: { object: invoice() } })],
    ['an event without an id', JSON.stringify({ object: 'event', type: 'invoice.paid', data: { object: invoice() } })],
  ])('rejects signed JSON that is not a Stripe event: %s', async (_name, body) => {
    await expectRejected(await postWebhook(app.baseUrl, body, signedAt(body, NOW)), /event/i);
  });
});

describe('the real clock', () => {
  // Without an injected clock the endpoint must use the current time; margins of several seconds
  // keep these independent of when the second ticks over.
  let realClockApp: RunningApp;
  beforeAll(async () => {
    realClockApp = await serveApp({ queue: new EventQueue(sqs.client, sqs.queueUrl), secrets: () => [TEST_SECRET], toleranceSeconds: TOLERANCE });
  });
  afterAll(async () => {
    await realClockApp?.close();
  });
  const nowS = () => Math.floor(Date.now() / 1000);

  it('accepts a header made now by the SDK helper', async () => {
    const payload = handledPayload();
    await expectAccepted(await postWebhook(realClockApp.baseUrl, payload, sign(payload, TEST_SECRET)), payload);
  });

  it('accepts 299 s old and 60 s ahead', async () => {
    for (const t of [nowS() - 299, nowS() + 60]) {
      const payload = handledPayload();
      await expectAccepted(await postWebhook(realClockApp.baseUrl, payload, signedAt(payload, t)), payload);
    }
  });

  it('rejects 301 s old and 305 s ahead', async () => {
    for (const t of [nowS() - 301, nowS() + 305]) {
      const payload = handledPayload();
      await expectRejected(await postWebhook(realClockApp.baseUrl, payload, signedAt(payload, t)));
    }
  });
});
