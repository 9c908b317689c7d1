import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { isReceiveFailure } from '../../src/consume/queue-gate';
import { createSqsClient } from '../../src/queue/sqs-client';
import { sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { TcpProxy, viaProxy } from '../support/tcp-proxy';

/**
 * The worker backs off only when a receive fails; sqs-consumer reports other queue failures (a
 * delete, a handler's error) on the same event. These are the errors a real consumer emits
 * against a real queue behind a proxy that stops answering.
 */

let sqs: TestSqs;
let proxy: TcpProxy;
let client: SQSClient;
let consumer: Consumer | undefined;

beforeAll(async () => {
  sqs = await startTestSqs({ visibilityTimeoutSeconds: 1 });
  proxy = new TcpProxy('127.0.0.1', Number(new URL(sqs.endpoint).port));
  await proxy.start();
  client = createSqsClient({ region: 'us-east-1', endpoint: viaProxy(sqs.endpoint, proxy.port) });
});
afterEach(async () => {
  consumer?.stop({ abort: true });
  consumer = undefined;
  await proxy.restore();
});
afterAll(async () => {
  client?.destroy();
  await proxy?.stop();
  await sqs?.stop();
});

/** The first 'error' the consumer emits, with the message(s) sqs-consumer says it concerns. */
function firstError(handleMessageBatch: (messages: Message[]) => Promise<Message[]>): Promise<{ err: Error; about: unknown }> {
  consumer = Consumer.create({ queueUrl: viaProxy(sqs.queueUrl, proxy.port), sqs: client, waitTimeSeconds: 0, pollingWaitTimeMs: 50, handleMessageBatch });
  const first = new Promise<{ err: Error; about: unknown }>((resolve) => consumer!.once('error', (err, about) => resolve({ err, about })));
  consumer.start();
  return first;
}

it('a receive the queue refuses is a receive failure', async () => {
  await proxy.refuse();
  const { err, about } = await firstError(async (messages) => messages);
  expect(about).toBeUndefined();
  expect(isReceiveFailure(err)).toBe(true);
});

it('a delete the queue refuses after the receive is not', async () => {
  await sendRaw(sqs.client, sqs.queueUrl, '{"delete":"fails"}');
  const { err, about } = await firstError(async (messages) => {
    await proxy.refuse();
    return messages;
  });
  expect(about).toBeDefined();
  expect(err.name).toBe('SQSError');
  expect(isReceiveFailure(err)).toBe(false);
});

it("a batch handler's own error is not", async () => {
  await sendRaw(sqs.client, sqs.queueUrl, '{"handler":"throws"}');
  const { err } = await firstError(async () => {
    throw new Error('handler failed');
  });
  expect(err.name).toBe('StandardError');
  expect(isReceiveFailure(err)).toBe(false);
});
