import { Writable } from 'node:stream';
import pino from 'pino';
import { EventQueue } from '../../src/queue/event-queue';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, sign, TEST_SECRET, uid } from '../support/stripe-events';
import { postChunked, postWebhook, serveApp, type RunningApp } from './harness';

const LIMIT = 4096;
let sqs: TestSqs;
let app: RunningApp;
let lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  sqs = await startTestSqs();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  app = await serveApp({ queue: new EventQueue(sqs.client, sqs.queueUrl), maxBodyBytes: LIMIT, logger: pino({ level: 'info' }, sink) });
});
afterAll(async () => {
  await app?.close();
  await sqs?.stop();
});
beforeEach(() => {
  lines = [];
});

const rejections = () => lines.filter((l) => l['msg'] === 'webhook rejected');

it('logs a 413 as the Lambda webhook does: rejected, body too large, with the announced size', async () => {
  const payload = JSON.stringify(event('invoice.paid', invoice({ id: uid('in'), metadata: { pad: 'x'.repeat(LIMIT) } })));
  const res = await postWebhook(app.baseUrl, payload, sign(payload, TEST_SECRET));
  expect(res.status).toBe(413);
  expect(rejections()).toEqual([expect.objectContaining({ level: 40, outcome: 'rejected', reason: 'body too large', bytes: Buffer.byteLength(payload) })]);
  // Nothing of the request beyond its size: not the signature, not the body.
  expect(JSON.stringify(lines)).not.toContain('v1=');
  expect(JSON.stringify(lines)).not.toContain('xxxxxxxx');
  expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
});

it('logs a 413 for a body streamed without Content-Length, whose size is not known', async () => {
  const chunk = Buffer.alloc(1024, 0x20);
  const res = await postChunked(app.baseUrl, Array.from({ length: 8 }, () => chunk), sign('irrelevant', TEST_SECRET));
  expect(res.status).toBe(413);
  const [line, ...more] = rejections();
  expect(more).toEqual([]);
  expect(line).toMatchObject({ outcome: 'rejected', reason: 'body too large' });
  expect(line).not.toHaveProperty('bytes');
});
