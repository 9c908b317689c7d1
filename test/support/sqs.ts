import { randomBytes } from 'node:crypto';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startEmbeddedSqs, type EmbeddedSqs } from '../../src/embedded/embedded-sqs';
import { createSqsClient } from '../../src/queue/sqs-client';

export interface TestSqs extends EmbeddedSqs {
  client: SQSClient;
}

/** A real SQS server (local-aws-sqs) with a queue redriving to a DLQ, as production is wired. */
export async function startTestSqs(opts: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {}): Promise<TestSqs> {
  const server = await startEmbeddedSqs({
    // local-aws-sqs keeps queues in module state shared by every server in the process: a fresh
    // name keeps one test's leftovers out of the next.
    queueName: `billing-test-${randomBytes(6).toString('hex')}`,
    maxReceiveCount: opts.maxReceiveCount ?? 5,
    visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds ?? 2,
  });
  const client = createSqsClient({ region: 'us-east-1', endpoint: server.endpoint });
  return {
    ...server,
    client,
    stop: async () => {
      client.destroy();
      await server.stop();
    },
  };
}

/** Visible plus in flight; the emulator's ApproximateNumberOfMessages already counts both. */
export async function depth(client: SQSClient, queueUrl: string): Promise<number> {
  const res = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  const a = res.Attributes ?? {};
  return Number(a['ApproximateNumberOfMessages'] ?? 0);
}

export async function sendRaw(client: SQSClient, queueUrl: string, body: string): Promise<void> {
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

export async function receiveBodies(client: SQSClient, queueUrl: string): Promise<string[]> {
  const res = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
  return (res.Messages ?? []).map((m) => m.Body ?? '');
}
