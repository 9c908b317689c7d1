import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { consumerHandler } from '../../src/lambda/consumer';
import { LambdaRuntime } from '../../src/lambda/runtime';
import { REPLAY_ATTRIBUTE } from '../../src/queue/replay-attribute';
import { findInvoice } from '../../src/db/invoices';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { depth, sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, paidLifecycle, uid } from '../support/stripe-events';
import { captureLogs, lambdaContext, noAwsStores, receiveBatch, settleLikeLambda, takeAll } from './events';
import { waitFor } from '../support/wait';

let db: TestDatabase;
let sqs: TestSqs;
let rt: LambdaRuntime;
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
  db = await createTestDatabase(3);
  // maxReceiveCount 2 and a 1 s visibility timeout: a poison message reaches the DLQ within seconds.
  sqs = await startTestSqs({ maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
  logs = captureLogs();
  rt = new LambdaRuntime({
    env: { AWS_REGION: 'us-east-1', DATABASE_URL: db.url, LOG_LEVEL: 'info', NOTICE_KINDS: 'all' },
    stores: noAwsStores,
    logDestination: logs.destination,
  });
});
afterAll(async () => {
  await rt?.close();
  await sqs?.stop();
  await db?.drop();
});
afterEach(async () => {
  // Messages left in flight come back after the 1 s visibility timeout; wait for them too.
  await waitFor('an empty queue', async () => {
    await takeAll(sqs.client, sqs.queueUrl);
    return (await depth(sqs.client, sqs.queueUrl)) === 0;
  });
  await takeAll(sqs.client, sqs.dlqUrl);
});

const consume = consumerHandler;

/** An EventBridge delivery of Stripe's partner source, as the optional rule routes it into the queue. */
function eventBridgeEnvelope(stripeEvent: Record<string, unknown>): string {
  return JSON.stringify({
    version: '0',
    id: uid('eb'),
    'detail-type': stripeEvent['type'],
    source: 'aws.partner/stripe.com/ed_test_61Sn7yzN1ngTgPmCq16Sn7y',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: stripeEvent,
  });
}

describe('the consumer function (SQS event source, ReportBatchItemFailures)', () => {
  it('reports only the poison record; the good ones commit and are deleted', async () => {
    const ids = [uid('in'), uid('in'), uid('in')];
    const [, finalizedA] = paidLifecycle(ids[0]!, 1_700_000_000, { amount: 1100 });
    const [, finalizedB] = paidLifecycle(ids[1]!, 1_700_000_000, { amount: 2200 });
    const [, finalizedC] = paidLifecycle(ids[2]!, 1_700_000_000, { amount: 3300 });
    await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(finalizedA));
    await sendRaw(sqs.client, sqs.queueUrl, '{"id": "evt_truncated", "type": "invoice.paid", "data": {');
    await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(finalizedB));
    await sendRaw(sqs.client, sqs.queueUrl, eventBridgeEnvelope(finalizedC!));

    const batch = await receiveBatch(sqs.client, sqs.queueUrl, 4);
    expect(batch.Records).toHaveLength(4);
    const poison = batch.Records.find((r) => r.body.includes('evt_truncated'))!;

    const answer = await consume(rt)(batch, lambdaContext('consumer'));
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: poison.messageId }] });

    for (const [id, cents] of [[ids[0]!, 1100], [ids[1]!, 2200], [ids[2]!, 3300]] as const) {
      expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'open', amountCents: cents });
    }
    const deleted = await settleLikeLambda(sqs.client, sqs.queueUrl, batch, answer);
    expect(deleted).toHaveLength(3);
    expect(deleted).not.toContain(poison.messageId);
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(1);
    const failure = logs.lines().find((l) => l['messageId'] === poison.messageId);
    expect(failure).toMatchObject({ outcome: 'malformed', msg: 'event failed; left on the queue' });
  });

  it('leaves a record that keeps failing to the redrive policy, which moves it to the DLQ', async () => {
    const poison = '{"not": "a stripe event"}';
    await sendRaw(sqs.client, sqs.queueUrl, poison);
    const good = paidLifecycle(uid('in'), 1_700_000_000)[1]!;
    await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(good));
    // As the event source mapping polls: receive, invoke, delete what succeeded, until the queue is empty.
    await waitFor(
      'the poison message in the DLQ',
      async () => {
        const batch = await receiveBatch(sqs.client, sqs.queueUrl, 10, 0);
        if (batch.Records.length > 0) {
          const answer = await consume(rt)(batch, lambdaContext('consumer')).catch((err: unknown) => {
            if (!(err instanceof FullBatchFailureError)) throw err;
            return { batchItemFailures: batch.Records.map((r) => ({ itemIdentifier: r.messageId })) };
          });
          await settleLikeLambda(sqs.client, sqs.queueUrl, batch, answer);
        }
        return (await depth(sqs.client, sqs.dlqUrl)) === 1 && (await depth(sqs.client, sqs.queueUrl)) === 0;
      },
      20_000,
      250,
    );
    expect(await takeAll(sqs.client, sqs.dlqUrl)).toEqual([poison]);
  });

  it('throws when every record fails, so Lambda counts an error and the whole batch returns', async () => {
    await sendRaw(sqs.client, sqs.queueUrl, 'not json at all');
    const batch = await receiveBatch(sqs.client, sqs.queueUrl, 1);
    await expect(consume(rt)(batch, lambdaContext('consumer'))).rejects.toBeInstanceOf(FullBatchFailureError);
  });

  it('merges a known event again only when the replay attribute says force', async () => {
    const id = uid('in');
    const finalized = event('invoice.finalized', invoice({ id, status: 'open', amount_due: 500, total: 500, amount_remaining: 500, amount_paid: 0, currency: 'usd' }));
    const send = (attributes: Record<string, string>) =>
      sqs.client.send(
        new SendMessageCommand({
          QueueUrl: sqs.queueUrl,
          MessageBody: JSON.stringify(finalized),
          MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
        }),
      );
    const outcomeOf = async () => {
      const batch = await receiveBatch(sqs.client, sqs.queueUrl, 1);
      const answer = await consume(rt)(batch, lambdaContext('consumer'));
      expect(answer.batchItemFailures).toEqual([]);
      await settleLikeLambda(sqs.client, sqs.queueUrl, batch, answer);
      return logs.lines().filter((l) => l['messageId'] === batch.Records[0]!.messageId).map((l) => l['outcome']);
    };
    await send({});
    expect(await outcomeOf()).toEqual(['merged']);
    await send({});
    expect(await outcomeOf()).toEqual(['duplicate']);
    await send({ [REPLAY_ATTRIBUTE]: 'force' });
    expect(await outcomeOf()).toEqual(['unchanged']);
  });

  it('fails the whole invocation before touching a record while the database is unreachable', async () => {
    const url = new URL(db.url);
    url.port = '1';
    const down = new LambdaRuntime({ env: { DATABASE_URL: url.toString(), LOG_LEVEL: 'silent' }, stores: noAwsStores });
    try {
      await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(paidLifecycle(uid('in'), 1_700_000_000)[1]));
      const batch = await receiveBatch(sqs.client, sqs.queueUrl, 1);
      await expect(consume(down)(batch, lambdaContext('consumer'))).rejects.toThrow(/cannot connect to the database/);
      // The next invocation tries again rather than reusing the failed connection attempt.
      await expect(consume(down)(batch, lambdaContext('consumer'))).rejects.toThrow(/cannot connect to the database/);
    } finally {
      await down.close();
    }
  });
});
