import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { start, type Running } from '../../src/run/start';
import { billingAsync } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { depth, sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, TEST_SECRET, uid } from '../support/stripe-events';
import { eventRow, refuseListedInvoices } from './refused-invoices';
import { waitFor } from '../support/wait';

// The queue dead-letters on the 3rd receive; the worker is told 9, so only reading the queue's own
// redrive policy tells it which failure is the last.
const MAX_RECEIVE_COUNT = 3;

let db: TestDatabase;
let sqs: TestSqs;
let worker: Running | undefined;
let refusals: Awaited<ReturnType<typeof refuseListedInvoices>>;
let dataDir: string;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  db = await createTestDatabase(3);
  refusals = await refuseListedInvoices(db.ds);
  sqs = await startTestSqs({ maxReceiveCount: MAX_RECEIVE_COUNT, visibilityTimeoutSeconds: 2 });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-dead-letter-'));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  worker = await start(
    ['worker'],
    {
      DATABASE_URL: db.url,
      SQS_QUEUE_URL: sqs.queueUrl,
      SQS_DLQ_URL: sqs.dlqUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_REGION: 'us-east-1',
      STRIPE_WEBHOOK_SECRET: TEST_SECRET,
      SQS_WAIT_TIME_SECONDS: '1',
      SQS_VISIBILITY_TIMEOUT_SECONDS: '2',
      SQS_MAX_RECEIVE_COUNT: '9',
      WORKER_POLLERS: '1',
      PORT: '0',
    },
    { quiet: true, logger: pino({ level: 'info' }, sink) },
  );
});

afterAll(async () => {
  await worker?.stop();
  await sqs?.stop();
  await db?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const dbEnv = () => ({ DATABASE_URL: db.url, DATA_DIR: dataDir });
const queueEnv = () => ({ ...dbEnv(), SQS_QUEUE_URL: sqs.queueUrl, SQS_DLQ_URL: sqs.dlqUrl, AWS_ENDPOINT_URL_SQS: sqs.endpoint, AWS_REGION: 'us-east-1' });

interface ListedEvent {
  id: string;
  processedAt: string | null;
  attempts: number;
  deadLetteredAt: string | null;
}

async function events(invoiceId: string): Promise<{ human: string; json: ListedEvent[] }> {
  const human = await billingAsync(['events', '--invoice', invoiceId], dbEnv());
  const json = await billingAsync(['events', '--invoice', invoiceId, '--json'], dbEnv());
  expect([human.code, json.code]).toEqual([0, 0]);
  return { human: human.out, json: JSON.parse(json.out) as ListedEvent[] };
}

describe('an event whose message goes to the DLQ', () => {
  const invoiceId = uid('in');
  const poison = event('invoice.finalized', invoice({ id: invoiceId, status: 'open' }));
  const eventId = poison['id'] as string;
  let deadLetteredAt: string;

  it('is marked dead-lettered when it fails on its last receive, and billing events says when', async () => {
    await refusals.refuse(invoiceId);
    const sent = new Date();
    await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(poison));
    await waitFor('the message in the DLQ', async () => (await depth(sqs.client, sqs.dlqUrl)) === 1, 30_000, 250);

    const row = await eventRow(db.ds, eventId);
    expect(row).toMatchObject({ processed_at: null, attempts: MAX_RECEIVE_COUNT, last_error: expect.stringMatching(/refused by the test/) });
    expect(row!.dead_lettered_at).toBeInstanceOf(Date);
    expect(row!.dead_lettered_at!.getTime()).toBeGreaterThanOrEqual(sent.getTime() - 1000);
    deadLetteredAt = row!.dead_lettered_at!.toISOString();

    const failures = lines.filter((l) => l['msg'] === 'event failed; left on the queue');
    expect(failures.map((l) => [l['receiveCount'], l['deadLettered']])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);

    const { human, json } = await events(invoiceId);
    expect(human).toContain(`${eventId}  invoice.finalized  ${invoiceId}  unprocessed (3 attempts), dead-lettered ${deadLetteredAt}  `);
    expect(json).toEqual([expect.objectContaining({ id: eventId, processedAt: null, attempts: 3, deadLetteredAt })]);
  }, 60_000);

  it('still shows when it was dead-lettered after a DLQ replay processed it, and reads as processed', async () => {
    await refusals.allow(invoiceId);
    const replay = await billingAsync(['replay', 'dlq', '--json'], queueEnv());
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.out)).toMatchObject({ moved: 1 });
    await waitFor('the replayed event processed', async () => (await eventRow(db.ds, eventId))?.processed_at ?? undefined, 20_000);

    expect((await eventRow(db.ds, eventId))!.dead_lettered_at!.toISOString()).toBe(deadLetteredAt);
    const { human, json } = await events(invoiceId);
    expect(human).toContain(`${eventId}  invoice.finalized  ${invoiceId}  processed (was dead-lettered ${deadLetteredAt})`);
    expect(json).toEqual([expect.objectContaining({ id: eventId, processedAt: expect.any(String), deadLetteredAt })]);
  }, 60_000);
});

it('does not mark an event whose message fails before its last receive', async () => {
  const invoiceId = uid('in');
  const e = event('invoice.finalized', invoice({ id: invoiceId, status: 'open' }));
  const eventId = e['id'] as string;
  await refusals.refuse(invoiceId);
  await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(e));
  await waitFor('the first failure recorded', async () => (await eventRow(db.ds, eventId))?.attempts === 1, 20_000, 50);
  expect((await eventRow(db.ds, eventId))!.dead_lettered_at).toBeNull();
  // Let the next receive (2 s later, still not the last) succeed.
  await refusals.allow(invoiceId);
  await waitFor('the event processed', async () => (await eventRow(db.ds, eventId))?.processed_at ?? undefined, 20_000);

  expect(await eventRow(db.ds, eventId)).toMatchObject({ attempts: 2, dead_lettered_at: null });
  const { human, json } = await events(invoiceId);
  expect(human).toMatch(new RegExp(`${eventId}  invoice.finalized  ${invoiceId}  processed\\n`));
  expect(human).not.toContain('dead-lettered');
  expect(json).toEqual([expect.objectContaining({ id: eventId, deadLetteredAt: null })]);
}, 60_000);

it('marks an unparseable event named inside an EventBridge envelope, read leniently', async () => {
  // Not a usable invoice: the consumer records it as malformed and it can never succeed.
  const broken = event('invoice.paid', { object: 'invoice' });
  const eventId = broken['id'] as string;
  const envelope = { version: '0', id: uid('eb'), 'detail-type': 'invoice.paid', source: 'aws.partner/stripe.com/ed_test', account: '123456789012', time: new Date().toISOString(), region: 'us-east-1', resources: [], detail: broken };
  await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(envelope));
  await waitFor('the event marked dead-lettered', async () => (await eventRow(db.ds, eventId))?.dead_lettered_at ?? undefined, 30_000, 250);
  expect(await eventRow(db.ds, eventId)).toMatchObject({ processed_at: null, last_error: expect.any(String) });
}, 60_000);
