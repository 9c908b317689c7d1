// Queues in the benchmark's SQS server, and what that server alone sustains.
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { REPLAY_ATTRIBUTE } from '../../src/queue/replay-attribute';

export interface BenchSqs {
  sqs: SQSClient;
  endpoint: string;
  dlqUrl: string;
  /** CPU seconds the server process has used so far. */
  cpuSeconds(): number;
  /** Calls the server has answered so far, by action (SendMessageBatch, ReceiveMessage, ...). */
  calls(): Promise<Record<string, number>>;
}

const dlqArn = (dlqUrl: string) => `arn:aws:sqs:us-east-1:000000000000:${dlqUrl.split('/').pop()}`;

/**
 * Deletes and recreates a queue under the same URL. The server keeps every message in memory and
 * its purge takes 60 s to act, so a fresh queue per round keeps one round's leftovers (and their
 * memory) out of the next while the processes under test keep their configured URL.
 */
export async function freshQueue(b: BenchSqs, name: string): Promise<string> {
  const url = `${b.endpoint}/000000000000/${name}`;
  await b.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
  const res = await b.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        MaximumMessageSize: '1048576',
        VisibilityTimeout: '60',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn(b.dlqUrl), maxReceiveCount: 5 }),
      },
    }),
  );
  return res.QueueUrl ?? url;
}

export async function dropQueue(b: BenchSqs, url: string): Promise<void> {
  await b.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
}

export async function queueDepth(b: BenchSqs, url: string): Promise<number> {
  const res = await b.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(res.Attributes?.['ApproximateNumberOfMessages'] ?? 0);
}

/** Fills a queue with bodies in batches of 10, a few batches at a time. */
export async function fill(b: BenchSqs, url: string, bodies: string[], concurrency = 6): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const start = next;
        next += 10;
        const chunk = bodies.slice(start, start + 10);
        const res = await b.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((body, j) => ({ Id: String(j), MessageBody: body })) }));
        if ((res.Failed ?? []).length > 0) throw new Error(`the bench queue refused ${res.Failed!.length} messages`);
      }
    }),
  );
}

/** Messages per second the server takes at `concurrency` requests in flight, `batch` messages each. */
export async function sendCeiling(b: BenchSqs, url: string, body: string, concurrency: number, batch: number, seconds: number): Promise<number> {
  let sent = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() - t0 < seconds * 1000) {
        if (batch === 1) await b.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
        else await b.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: Array.from({ length: batch }, (_, i) => ({ Id: String(i), MessageBody: body })) }));
        sent += batch;
      }
    }),
  );
  return sent / ((Date.now() - t0) / 1000);
}

/**
 * Events per second between 1 % and 99 % done, from completion times: the emulator answers a
 * receive that cannot fill its batch only after the whole wait, so the last few messages of a
 * drain measure its long poll, not the throughput.
 */
export function centralRate(doneAtMs: number[]): number {
  const t = [...doneAtMs].sort((a, b) => a - b);
  const lo = Math.floor(t.length * 0.01);
  const hi = Math.ceil(t.length * 0.99) - 1;
  return (hi - lo) / ((t[hi]! - t[lo]!) / 1000);
}

/**
 * What the server sustains for the worker's own calls with no work in between: `pollers` loops of
 * ReceiveMessage (10, the worker's attribute names) then DeleteMessageBatch.
 */
/**
 * What the SQS server sustains for receives of 10 and their delete batches, and what those two
 * SDK calls cost this process's CPU per message: the part of the worker's CPU that is the AWS SDK's
 * (the client is built by the same code as the worker's).
 */
export async function receiveDeleteCeiling(b: BenchSqs, url: string, total: number, pollers: number): Promise<{ rate: number; cpuMicrosPerMessage: number }> {
  const doneAt: number[] = [];
  const cpu0 = process.cpuUsage();
  const enough = Math.ceil(total * 0.99);
  await Promise.all(
    Array.from({ length: pollers }, async () => {
      while (doneAt.length < enough) {
        const res = await b.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: 60,
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            MessageAttributeNames: [REPLAY_ATTRIBUTE],
          }),
        );
        const messages = res.Messages ?? [];
        if (messages.length === 0) continue;
        await b.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
        const now = performance.now();
        for (let i = 0; i < messages.length; i++) doneAt.push(now);
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { rate: centralRate(doneAt.slice(0, total)), cpuMicrosPerMessage: (cpu.user + cpu.system) / doneAt.length };
}
