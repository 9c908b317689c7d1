import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describeMessage, type MessageSummary } from './message-summary';

export interface RedriveOptions {
  /** At most this many messages; default all. */
  limit?: number;
  dryRun?: boolean;
  /** Long-poll seconds per receive; SQS's short poll samples some servers only, so an empty short receive proves nothing. */
  waitSeconds?: number;
  /** How long a received message stays hidden while it is copied; it reappears in the DLQ if we die. */
  visibilitySeconds?: number;
  onMoved?: (n: number) => void;
}

export interface RedriveResult {
  moved: number;
  /** Messages the main queue refused; they stay in (and reappear in) the DLQ. */
  failed: number;
  /** What was moved, or with --dry-run what would be. */
  messages: MessageSummary[];
  dryRun: boolean;
}

/**
 * Moves dead-lettered messages back to the main queue: send first, delete from the DLQ only
 * what the main queue took. A crash in between leaves a copy in both queues, which the consumer
 * absorbs (a known event id is a no-op); the opposite order could lose a message.
 */
export async function redriveDlq(sqs: SQSClient, queues: { queueUrl: string; dlqUrl: string }, o: RedriveOptions = {}): Promise<RedriveResult> {
  const limit = o.limit ?? Number.POSITIVE_INFINITY;
  const result: RedriveResult = { moved: 0, failed: 0, messages: [], dryRun: o.dryRun === true };
  const seen = new Set<string>();
  const held: Message[] = [];
  try {
    while (result.moved + result.failed + held.length < limit) {
      const want = Math.min(10, limit - result.moved - result.failed - held.length);
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.dlqUrl,
          MaxNumberOfMessages: want,
          WaitTimeSeconds: o.waitSeconds ?? 1,
          VisibilityTimeout: o.visibilitySeconds ?? 60,
          MessageAttributeNames: ['All'],
        }),
      );
      const batch = (received.Messages ?? []).filter((m) => m.MessageId !== undefined && !seen.has(m.MessageId));
      if (batch.length === 0) break;
      for (const m of batch) seen.add(m.MessageId!);
      if (o.dryRun) {
        // Hidden until the end, so the next receive returns others; released below.
        held.push(...batch);
        result.messages.push(...batch.map(describeMessage));
        continue;
      }
      await moveBatch(sqs, queues, batch, result);
      o.onMoved?.(result.moved);
    }
  } finally {
    if (held.length > 0) await release(sqs, queues.dlqUrl, held);
  }
  return result;
}

async function moveBatch(sqs: SQSClient, queues: { queueUrl: string; dlqUrl: string }, batch: Message[], result: RedriveResult): Promise<void> {
  const sent = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queues.queueUrl,
      Entries: batch.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? '', MessageAttributes: m.MessageAttributes })),
    }),
  );
  const ok = new Set((sent.Successful ?? []).map((s) => Number(s.Id)));
  const moved = batch.filter((_, i) => ok.has(i));
  result.failed += batch.length - moved.length;
  if (moved.length === 0) return;
  await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queues.dlqUrl,
      Entries: moved.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
    }),
  );
  result.moved += moved.length;
  result.messages.push(...moved.map(describeMessage));
}

async function release(sqs: SQSClient, dlqUrl: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: dlqUrl,
        Entries: messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      }),
    );
  }
}
