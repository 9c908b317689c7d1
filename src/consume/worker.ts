import { ChangeMessageVisibilityCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { Consumer } from 'sqs-consumer';
import type { DataSource } from 'typeorm';
import { MalformedEventError } from '../billing/snapshot';
import { isConnectionError } from '../db/connection-errors';
import { DatabaseGate } from './database-gate';
import { errorText, processMessage, type ProcessOptions } from './process-event';
import { REPLAY_ATTRIBUTE } from './replay-attribute';

export interface WorkerOptions extends ProcessOptions {
  ds: DataSource;
  sqs: SQSClient;
  queueUrl: string;
  logger: Logger;
  /** Independent pollers on the queue; each processes up to `batchSize` messages at once. */
  pollers: number;
  batchSize?: number;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
}

/** Consumes the queue with sqs-consumer; a message is deleted only after its transaction committed. */
export class Worker {
  private readonly consumers: Consumer[] = [];
  private readonly gate: DatabaseGate;
  private readonly inFlight = new Set<Promise<unknown>>();
  private running = false;

  constructor(private readonly options: WorkerOptions) {
    this.gate = new DatabaseGate(options.ds, options.logger);
    for (let i = 0; i < options.pollers; i++) this.consumers.push(this.createConsumer());
  }

  private createConsumer(): Consumer {
    const o = this.options;
    const consumer = Consumer.create({
      queueUrl: o.queueUrl,
      sqs: o.sqs,
      batchSize: o.batchSize ?? 10,
      waitTimeSeconds: o.waitTimeSeconds,
      visibilityTimeout: o.visibilityTimeoutSeconds,
      // ApproximateReceiveCount; the local SQS server returns it only when asked for 'All'.
      attributeNames: ['All'],
      messageSystemAttributeNames: ['ApproximateReceiveCount'],
      messageAttributeNames: [REPLAY_ATTRIBUTE],
      preReceiveMessageCallback: () => this.gate.waitUntilUp(),
      handleMessageBatch: (messages) => this.track(this.handleBatch(messages)),
    });
    consumer.on('error', (err) => {
      // Stopping aborts the pending long poll; that is not a queue failure.
      if (!this.running) return;
      o.logger.error({ err: errorText(err) }, 'queue error');
    });
    return consumer;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  /** Each message commits or fails on its own; only the committed ones are acknowledged. */
  private async handleBatch(messages: Message[]): Promise<Message[]> {
    const done = await Promise.all(messages.map((m) => this.handleOne(m)));
    return messages.filter((_, i) => done[i]);
  }

  private async handleOne(message: Message): Promise<boolean> {
    const o = this.options;
    const started = process.hrtime.bigint();
    const receiveCount = Number(message.Attributes?.['ApproximateReceiveCount'] ?? 1);
    const log = o.logger.child({ messageId: message.MessageId });
    const durationMs = () => Number(process.hrtime.bigint() - started) / 1e6;
    try {
      const force = message.MessageAttributes?.[REPLAY_ATTRIBUTE]?.StringValue === 'force';
      const r = await processMessage(o.ds, message.Body ?? '', o, { force });
      log.info({ eventId: r.eventId, type: r.type, invoiceId: r.invoiceId, outcome: r.outcome, durationMs: durationMs() }, 'event processed');
      return true;
    } catch (err) {
      const permanent = err instanceof MalformedEventError;
      if (isConnectionError(err)) this.gate.markDown();
      log.error({ outcome: permanent ? 'malformed' : 'failed', receiveCount, err: errorText(err), durationMs: durationMs() }, 'event failed; left on the queue');
      // A malformed message can never succeed: let it be received again at once so the redrive
      // policy moves it to the DLQ quickly instead of waiting out the visibility timeout each time.
      if (permanent && message.ReceiptHandle) {
        await o.sqs
          .send(new ChangeMessageVisibilityCommand({ QueueUrl: o.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }))
          .catch(() => undefined);
      }
      return false;
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const c of this.consumers) c.start();
  }

  /** Stops polling and waits for the messages already received to finish. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.gate.close();
    await Promise.all(
      this.consumers.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (!c.status.isRunning) return resolve();
            c.once('stopped', () => resolve());
            c.stop({ abort: true });
          }),
      ),
    );
    await Promise.allSettled([...this.inFlight]);
  }
}
