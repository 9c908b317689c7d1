// Found by the fault suite (queue outage): with the queue refusing connections, sqs-consumer
// polled again at once after each failure, so the worker spun and logged ~60 errors a second.
import { Writable } from 'node:stream';
import pino from 'pino';
import { start, type Running } from '../../src/run/start';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { paidLifecycle, TEST_SECRET, uid } from '../support/stripe-events';
import { TcpProxy, viaProxy } from '../support/tcp-proxy';
import { watchConnectionAttempts, type ConnectionAttempts } from '../support/connection-attempts';
import { eventId, processedCount } from './helpers';
import { sleep, waitFor } from '../support/wait';

let db: TestDatabase;
let sqs: TestSqs;
let proxy: TcpProxy;
let worker: Running | undefined;
let attempts: ConnectionAttempts | undefined;
const lines: Array<{ level: number; msg: string; failedReceives?: number }> = [];

beforeAll(async () => {
  db = await createTestDatabase(3);
  sqs = await startTestSqs();
  proxy = new TcpProxy('127.0.0.1', Number(new URL(sqs.endpoint).port));
  await proxy.start();
});

afterAll(async () => {
  attempts?.stop();
  await worker?.stop();
  await proxy?.stop();
  await sqs?.stop();
  await db?.drop();
});

it('backs off and logs once while the queue refuses connections, then resumes', async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as (typeof lines)[number]);
      done();
    },
  });
  attempts = watchConnectionAttempts(proxy.port);
  worker = await start(
    ['worker'],
    {
      DATABASE_URL: db.url,
      SQS_QUEUE_URL: viaProxy(sqs.queueUrl, proxy.port),
      SQS_DLQ_URL: viaProxy(sqs.dlqUrl, proxy.port),
      AWS_ENDPOINT_URL_SQS: viaProxy(sqs.endpoint, proxy.port),
      AWS_REGION: 'us-east-1',
      STRIPE_WEBHOOK_SECRET: TEST_SECRET,
      SQS_WAIT_TIME_SECONDS: '1',
      WORKER_POLLERS: '2',
      PORT: '0',
    },
    { quiet: true, logger: pino({ level: 'info' }, sink) },
  );
  await waitFor('the worker receiving through the proxy', async () => proxy.connections > 0, 10_000, 20);
  await proxy.refuse();
  const refusedAt = Date.now();
  // Each call is up to three refused connections (the SDK retries a refusal twice): twelve are the
  // redrive policy read and at least three receives, enough for a second error line were every
  // failure logged, and what a worker without backoff would reach within milliseconds.
  await waitFor('twelve refused connections', async () => attempts!.refused >= 12, 20_000, 20);
  const errors = lines.filter((l) => l.level >= 50);
  expect(errors.map((l) => l.msg)).toEqual(['queue unreachable; receiving again with backoff']);
  // Time is the subject here: the long polls the refusal cut stay open on the queue server for
  // their wait time (1 s) with no one to answer, and one would take the message sent next and
  // hide it for the visibility timeout. Nothing observable says they have lapsed.
  await sleep(refusedAt + 1_500 - Date.now());
  await proxy.restore();

  const e = paidLifecycle(uid('in'), 1_700_000_000)[1]!;
  await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(e));
  await waitFor('the event after the outage', async () => (await processedCount(db.ds, [eventId(e)])) === 1, 15_000);
  const resumed = lines.filter((l) => l.msg === 'queue reachable again; receiving');
  expect(resumed).toHaveLength(1);
  // The one error line stood for several failed receives, not for a worker that tried once.
  expect(resumed[0]!.failedReceives).toBeGreaterThanOrEqual(2);
});
