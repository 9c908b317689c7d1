import { Writable } from 'node:stream';
import pino from 'pino';
import { start, type Running } from '../../src/run/start';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { depth, sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { paidLifecycle, TEST_SECRET, uid } from '../support/stripe-events';
import { sleep, waitFor } from '../support/wait';

// A real queue holds an idle long poll open for its whole WaitTimeSeconds; local-aws-sqs does the
// same for a receive asking for more than one message, so the worker runs here with the
// production wait (SQS_WAIT_TIME_SECONDS unset: 20 s), not the 1 s of the other tests.

let db: TestDatabase;
let sqs: TestSqs;
let worker: Running | undefined;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  db = await createTestDatabase(3);
  sqs = await startTestSqs();
});

afterAll(async () => {
  await worker?.stop();
  await sqs?.stop();
  await db?.drop();
});

it('keeps a 20 s long poll open: a message arriving in its 12th second is delivered once, on its first receive', async () => {
  const warn = jest.spyOn(console, 'warn');
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  try {
    worker = await start(
      ['worker'],
      {
        DATABASE_URL: db.url,
        SQS_QUEUE_URL: sqs.queueUrl,
        SQS_DLQ_URL: sqs.dlqUrl,
        AWS_ENDPOINT_URL_SQS: sqs.endpoint,
        AWS_REGION: 'us-east-1',
        STRIPE_WEBHOOK_SECRET: TEST_SECRET,
        PORT: '0',
      },
      { quiet: true, logger: pino({ level: 'info' }, sink) },
    );
    const started = Date.now();
    // Time is the subject: the message must arrive when the poll has been open for 11.5 s.
    await sleep(11_500);
    const e = paidLifecycle(uid('in'), 1_700_000_000)[1]!;
    await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(e));

    let elapsedMs = 0;
    const processed = await waitFor(
      'the event processed',
      async () => {
        elapsedMs = Date.now() - started;
        return lines.find((l) => l['msg'] === 'event processed' && l['eventId'] === e['id']);
      },
      25_000 - (Date.now() - started),
      100,
    );
    // The premise: the queue held the poll open to its end instead of answering at once.
    expect(elapsedMs).toBeGreaterThan(18_000);
    // Acknowledged: the receive that carried it is over, and its delete too.
    await waitFor('the message deleted', async () => (await depth(sqs.client, sqs.queueUrl)) === 0, 5_000, 50);
    const timeouts = warn.mock.calls.map((args) => args.map(String).join(' ')).filter((m) => m.includes('requestTimeout'));
    expect(timeouts).toEqual([]);
    expect(processed['receiveCount']).toBe(1);
    expect(lines.filter((l) => l['msg'] === 'event processed')).toHaveLength(1);
    expect(lines.filter((l) => Number(l['level']) >= 40)).toEqual([]);
    expect(await depth(sqs.client, sqs.dlqUrl)).toBe(0);
  } finally {
    warn.mockRestore();
  }
}, 60_000);
