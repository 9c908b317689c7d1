import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { consumerHandler } from '../../src/lambda/consumer';
import { LambdaRuntime } from '../../src/lambda/runtime';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { depth, sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, uid } from '../support/stripe-events';
import { captureLogs, lambdaContext, noAwsStores, receiveBatch, settleLikeLambda } from '../lambda/events';
import { eventRow, refuseListedInvoices } from './refused-invoices';
import { waitFor } from '../support/wait';

// The function never calls SQS: it knows the last receive from SQS_MAX_RECEIVE_COUNT, which
// serverless.yml sets to the queue's redrive policy. Here both are 2.
let db: TestDatabase;
let sqs: TestSqs;
let rt: LambdaRuntime;
let logs: ReturnType<typeof captureLogs>;
let refusals: Awaited<ReturnType<typeof refuseListedInvoices>>;

beforeAll(async () => {
  db = await createTestDatabase(3);
  refusals = await refuseListedInvoices(db.ds);
  sqs = await startTestSqs({ maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
  logs = captureLogs();
  rt = new LambdaRuntime({
    env: { AWS_REGION: 'us-east-1', DATABASE_URL: db.url, LOG_LEVEL: 'info', SQS_MAX_RECEIVE_COUNT: '2' },
    stores: noAwsStores,
    logDestination: logs.destination,
  });
});
afterAll(async () => {
  await rt?.close();
  await sqs?.stop();
  await db?.drop();
});

/** One poll of the event source mapping: receive, invoke, delete what succeeded. */
async function pollOnce(): Promise<number> {
  const batch = await receiveBatch(sqs.client, sqs.queueUrl, 10, 0);
  if (batch.Records.length === 0) return 0;
  const answer = await consumerHandler(rt)(batch, lambdaContext('consumer')).catch((err: unknown) => {
    if (!(err instanceof FullBatchFailureError)) throw err;
    return { batchItemFailures: batch.Records.map((r) => ({ itemIdentifier: r.messageId })) };
  });
  await settleLikeLambda(sqs.client, sqs.queueUrl, batch, answer);
  return batch.Records.length;
}

it('marks the event of a record that fails on its last receive as dead-lettered, and not before', async () => {
  const invoiceId = uid('in');
  const poison = event('invoice.finalized', invoice({ id: invoiceId, status: 'open' }));
  const eventId = poison['id'] as string;
  await refusals.refuse(invoiceId);
  await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(poison));

  await waitFor('the first receive', async () => (await pollOnce()) === 1, 10_000, 100);
  expect(await eventRow(db.ds, eventId)).toMatchObject({ attempts: 1, dead_lettered_at: null });

  await waitFor('the second receive', async () => (await pollOnce()) === 1, 10_000, 100);
  const row = await eventRow(db.ds, eventId);
  expect(row).toMatchObject({ attempts: 2, processed_at: null });
  expect(row!.dead_lettered_at).toBeInstanceOf(Date);
  await waitFor('the message in the DLQ', async () => (await depth(sqs.client, sqs.dlqUrl)) === 1, 10_000, 250);

  const failures = logs.lines().filter((l) => l['msg'] === 'event failed; left on the queue');
  expect(failures.map((l) => [l['receiveCount'], l['deadLettered']])).toEqual([
    [1, false],
    [2, true],
  ]);
}, 30_000);
