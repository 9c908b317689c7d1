// The webhook path as Stripe posts it is served without express's routing; any other spelling
// express accepts (any case, a trailing slash) still goes through express. Both must answer alike,
// byte for byte apart from the Date header, for every outcome.
import http from 'node:http';
import zlib from 'node:zlib';
import { EventQueue } from '../../src/queue/event-queue';
import { startTestSqs, type TestSqs } from '../support/sqs';
import { TEST_SECRET, event, invoice, sign, uid } from '../support/stripe-events';
import { drain, serveApp, type RunningApp } from './harness';

interface RawAnswer {
  status: number;
  /** Header names and values in the order they were sent, without Date. */
  headers: string[];
  body: string;
}

function post(baseUrl: string, path: string, body: Buffer, headers: Record<string, string>): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-length': String(body.length), ...headers }, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const raw = res.rawHeaders;
        const kept: string[] = [];
        for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() !== 'date') kept.push(`${raw[i]}: ${raw[i + 1]}`);
        resolve({ status: res.statusCode ?? 0, headers: kept, body: Buffer.concat(parts).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const MAX_BODY = 64 * 1024;
let sqs: TestSqs;
let app: RunningApp;

beforeAll(async () => {
  sqs = await startTestSqs();
  app = await serveApp({ queue: new EventQueue(sqs.client, sqs.queueUrl), maxBodyBytes: MAX_BODY });
});
afterAll(async () => {
  await app?.close();
  await sqs?.stop();
});
beforeEach(async () => {
  await drain(sqs.client, sqs.queueUrl);
});

const payload = () => JSON.stringify(event('invoice.finalized', invoice({ id: uid('in') })));
const json = { 'content-type': 'application/json' };

/** Two requests built alike (each its own event), one per spelling of the path. */
const cases: Array<[string, () => { body: Buffer; headers: Record<string, string> }, number]> = [
  ['a signed event', () => { const p = payload(); return { body: Buffer.from(p), headers: { ...json, 'stripe-signature': sign(p, TEST_SECRET) } }; }, 200],
  ['a signed event of an ignored type', () => { const p = JSON.stringify(event('customer.subscription.created', { id: uid('sub'), object: 'subscription' })); return { body: Buffer.from(p), headers: { ...json, 'stripe-signature': sign(p, TEST_SECRET) } }; }, 200],
  ['a wrong signature', () => ({ body: Buffer.from(payload()), headers: { ...json, 'stripe-signature': sign('other', TEST_SECRET) } }), 400],
  ['no signature', () => ({ body: Buffer.from(payload()), headers: json }), 400],
  ['signed text that is not JSON', () => ({ body: Buffer.from('{not json'), headers: { ...json, 'stripe-signature': sign('{not json', TEST_SECRET) } }), 400],
  ['an empty body', () => ({ body: Buffer.alloc(0), headers: { ...json, 'stripe-signature': sign('', TEST_SECRET) } }), 400],
  ['a gzip body, signed over its plain bytes', () => { const p = payload(); return { body: zlib.gzipSync(p), headers: { ...json, 'content-encoding': 'gzip', 'stripe-signature': sign(p, TEST_SECRET) } }; }, 200],
  ['an encoding no parser reads', () => ({ body: Buffer.from(payload()), headers: { ...json, 'content-encoding': 'x-unknown', 'stripe-signature': sign('x', TEST_SECRET) } }), 415],
  ['a body over the limit', () => { const p = 'x'.repeat(MAX_BODY + 1); return { body: Buffer.from(p), headers: { ...json, 'stripe-signature': sign(p, TEST_SECRET) } }; }, 413],
];

describe.each(cases)('%s', (_name, build, status) => {
  it(`answers ${status} the same on the direct path and through express`, async () => {
    const first = build();
    const direct = await post(app.baseUrl, '/webhooks/stripe?attempt=1', first.body, first.headers);
    const queuedDirect = await drain(sqs.client, sqs.queueUrl);
    const second = build();
    const routed = await post(app.baseUrl, '/Webhooks/Stripe/', second.body, second.headers);
    const queuedRouted = await drain(sqs.client, sqs.queueUrl);

    expect(direct.status).toBe(status);
    expect(routed).toEqual(direct);
    expect(direct.headers).toEqual(['Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(direct.body)}`, 'Connection: close']);
    expect(queuedRouted.length).toBe(queuedDirect.length);
    expect(queuedDirect.length).toBe(status === 200 && !direct.body.includes('ignored') ? 1 : 0);
  });
});

it('answers other methods and paths through express as before', async () => {
  const res = await post(app.baseUrl, '/webhooks/other', Buffer.from('{}'), json);
  expect(res.status).toBe(404);
  expect(JSON.parse(res.body)).toEqual({ error: 'Not found' });
  expect(res.headers[0]).toBe('Content-Type: application/json; charset=utf-8');
});
