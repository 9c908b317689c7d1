import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import fs from 'node:fs/promises';
import path from 'node:path';

interface SavedQueues {
  [queueUrlName: string]: string[];
}

const FILE = 'queue-messages.json';
const nameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

async function drain(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const res = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 300 }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) return bodies;
    for (const m of messages) bodies.push(m.Body ?? '');
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

/**
 * The embedded queue lives in memory. On a clean stop whatever is still queued (and the DLQ) is
 * written under the data dir and sent back at the next start, so a restart loses nothing.
 */
export async function saveQueues(sqs: SQSClient, dataDir: string, queueUrls: string[]): Promise<number> {
  const saved: SavedQueues = {};
  let total = 0;
  for (const url of queueUrls) {
    const bodies = await drain(sqs, url);
    if (bodies.length > 0) saved[nameOf(url)] = bodies;
    total += bodies.length;
  }
  const file = path.join(dataDir, FILE);
  if (total > 0) await fs.writeFile(file, JSON.stringify(saved), { mode: 0o600 });
  return total;
}

export async function restoreQueues(sqs: SQSClient, dataDir: string, queueUrls: string[]): Promise<number> {
  const file = path.join(dataDir, FILE);
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) return 0;
  const saved = JSON.parse(text) as SavedQueues;
  let total = 0;
  for (const url of queueUrls) {
    const bodies = saved[nameOf(url)] ?? [];
    // One at a time: ten messages of up to 1 MiB each would overflow a batch's 1 MiB total.
    for (const body of bodies) {
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
      total += 1;
    }
  }
  await fs.rm(file, { force: true });
  return total;
}
