import { ChangeMessageVisibilityCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { Consumer } from 'sqs-consumer';
import type { DataSource } from 'typeorm';
import { isConnectionError } from '../db/connection-errors';
import { isRetryable } from '../errors';
import { isLastReceive } from '../queue/redrive-policy';
import { recordDeadLetter } from './dead-letter';
import { DatabaseGate } from './database-gate';
import { isReceiveFailure, QueueGate } from './queue-gate';
import { applyMessages, readMessages, type ReadMessage } from '../pipeline/process-batch';
import { GroupCommit } from './group-commit';
import { errorText, objectIdField, type BatchOutcome, type ProcessOptions } from '../pipeline/types';
import { RedriveLimit } from './redrive-limit';
import { REPLAY_ATTRIBUTE } from '../queue/replay-attribute';
import { reportOutcomes } from '../metrics/event-outcomes';
import { noMetrics, type Metrics } from '../metrics/metrics';

export interface WorkerOptions extends ProcessOptions {
  ds: DataSource;
  sqs: SQSClient;
  queueUrl: string;
  logger: Logger;
  /** Independent pollers on the queue; each processes up to `batchSize` messages at once. */
  pollers: number;
  batchSize?: number;
  /** WORKER_TRANSACTIONS: pipeline transactions at once; receives that arrive while all are busy share the next one (see GroupCommit). */
  transactions: number;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
  /** SQS_MAX_RECEIVE_COUNT: assumed while the queue's own RedrivePolicy cannot be read. */
  maxReceiveCount: number;
  /** Counts each message's outcome (billing_events_applied_total); default noMetrics. */
  metrics?: Metrics;
}

/** Consumes the queue with sqs-consumer; a message is deleted only after its own event committed. */
export class Worker {
  private readonly consumers: Consumer[] = [];
  private readonly gate: DatabaseGate;
  private readonly queueGate: QueueGate;
  private readonly redriveLimit: RedriveLimit;
  private readonly inFlight = new Set<Promise<unknown>>();
  private running = false;
  private readonly groups: GroupCommit<ReadMessage, BatchOutcome>;
  private readonly processOptions: ProcessOptions;

  constructor(private readonly options: WorkerOptions) {
    this.processOptions = {
      ...options,
      onBatchFallback: (err, size) => options.logger.warn({ err: errorText(err), batch: size }, 'batch transaction failed; processing its messages one by one'),
    };
    this.groups = new GroupCommit((read) => applyMessages(options.ds, read, this.processOptions), options.transactions);
    this.gate = new DatabaseGate(options.ds, options.logger);
    this.queueGate = new QueueGate(options.logger);
    this.redriveLimit = new RedriveLimit(options.sqs, options.queueUrl, options.maxReceiveCount, options.logger);
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
      preReceiveMessageCallback: async () => {
        await this.gate.waitUntilUp();
        await this.queueGate.beforeReceive();
      },
      postReceiveMessageCallback: async () => this.queueGate.received(),
      handleMessageBatch: (messages) => this.track(this.handleBatch(messages)),
    });
    consumer.on('error', (err) => {
      // Stopping aborts the pending long poll; that is not a queue failure.
      if (!this.running) return;
      if (isReceiveFailure(err)) return this.queueGate.receiveFailed(errorText(err));
      o.logger.error({ err: errorText(err) }, 'queue error');
    });
    return consumer;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  /**
   * The receive's messages are read as they arrive (readMessages), while other receives' transaction
   * runs, then applied together with the receives waiting beside them (applyMessages); each is
   * acknowledged only if its own event committed, and the others stay on the queue for their next
   * receive.
   */
  private async handleBatch(messages: Message[]): Promise<Message[]> {
    const o = this.options;
    const started = process.hrtime.bigint();
    const items = messages.map((m) => ({ body: m.Body ?? '', force: m.MessageAttributes?.[REPLAY_ATTRIBUTE]?.StringValue === 'force' }));
    const read = await readMessages(o.ds, items, this.processOptions);
    const { outcomes, group } = await this.groups.submit(read);
    reportOutcomes(o.metrics ?? noMetrics, outcomes, Date.now() / 1000);
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    const acked: Message[] = [];
    await Promise.all(
      messages.map(async (m, i) => {
        const r = outcomes[i]!;
        if (r.ok) {
          const { eventId, type, object, objectId, outcome } = r.result;
          o.logger.info(
            { messageId: m.MessageId, eventId, type, [objectIdField(object)]: objectId, outcome, receiveCount: receiveCountOf(m), durationMs, batch: messages.length, group },
            'event processed',
          );
          acked.push(m);
        } else {
          await this.failed(m, r.error, durationMs);
        }
      }),
    );
    return acked;
  }

  private async failed(message: Message, err: unknown, durationMs: number): Promise<void> {
    const o = this.options;
    const receiveCount = receiveCountOf(message);
    const permanent = !isRetryable(err);
    if (isConnectionError(err)) this.gate.markDown();
    const deadLettered = isLastReceive(receiveCount, await this.redriveLimit.get());
    o.logger.error(
      { messageId: message.MessageId, outcome: permanent ? 'malformed' : 'failed', receiveCount, deadLettered, err: errorText(err), durationMs },
      'event failed; left on the queue',
    );
    if (deadLettered) {
      await recordDeadLetter(o.ds, message.MessageId, message.Body).catch((e: unknown) =>
        o.logger.warn({ messageId: message.MessageId, err: errorText(e) }, 'could not record that the event was dead-lettered'),
      );
    }
    // A message that can never succeed: let it be received again at once so the redrive policy
    // moves it to the DLQ quickly instead of waiting out the visibility timeout each time.
    if (permanent && message.ReceiptHandle) {
      await o.sqs
        .send(new ChangeMessageVisibilityCommand({ QueueUrl: o.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }))
        .catch(() => undefined);
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Read ahead of the first failure that needs it.
    void this.redriveLimit.get();
    for (const c of this.consumers) c.start();
  }

  /** Stops polling and waits for the messages already received to finish. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.gate.close();
    this.queueGate.close();
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

/** ApproximateReceiveCount: 1 on the first delivery. */
function receiveCountOf(message: Message): number {
  return Number(message.Attributes?.['ApproximateReceiveCount'] ?? 1);
}
