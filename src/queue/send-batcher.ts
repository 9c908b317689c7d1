import { SendMessageBatchCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import { BillingError } from '../errors';

export interface SendBatcherOptions {
  /**
   * How long the first message of a batch waits for others, in milliseconds; the batch goes when
   * it is full or this has passed. Default 0: group commit instead (maxWaitMs), which never makes
   * a lone message wait. A server taking a steady stream of webhooks trades a few milliseconds of
   * each answer for a fraction of the calls (and of their CPU).
   */
  lingerMs?: number;
  /**
   * With lingerMs 0: a message alone goes at the end of the current event-loop turn, messages that
   * arrive while a batch is on its way go together when it returns, so batches grow with the load
   * by themselves; this bounds that wait (milliseconds) if a send hangs. Default 20.
   */
  maxWaitMs?: number;
  /** Messages per SendMessageBatch, 1 to 10 (SQS's limit). Default 10; a full batch goes at once. */
  maxEntries?: number;
}

/** A SendBatcher option out of range; thrown by the constructor, never at send time. */
export class InvalidBatchOptionError extends BillingError {
  override readonly name = 'InvalidBatchOptionError';
  readonly retryable = false;
}

/** SQS rejects a SendMessageBatch whose bodies and attributes together exceed 1 MiB. */
export const MAX_BATCH_BYTES = 1_048_576;

export interface BatchEntry {
  body: string;
  attributes: Record<string, MessageAttributeValue> | undefined;
  /** Body plus attributes, as SQS counts them. */
  bytes: number;
}

interface Waiting extends BatchEntry {
  resolve(messageId: string): void;
  reject(err: Error): void;
}

/** One entry's failure inside a batch that SQS otherwise accepted, or the whole call's. */
export class EntryFailedError extends BillingError {
  override readonly name = 'EntryFailedError';
  constructor(
    message: string,
    /** False when SQS says the entry itself is at fault (SenderFault): the same message fails again. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

function checkMs(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0 || v > 10_000) throw new InvalidBatchOptionError(`${name} must be between 0 and 10000, got ${v}`);
  return v;
}

/**
 * Groups messages into SendMessageBatch calls, either within a linger window or like a database's
 * group commit (see the options). Each `add` settles on its own entry: resolved with the MessageId
 * SQS returned for it, rejected with the entry's error code or the call's error name (never with
 * text that could carry a URL or credentials).
 */
export class SendBatcher {
  private readonly lingerMs: number;
  private readonly maxWaitMs: number;
  private readonly maxEntries: number;
  private waiting: Waiting[] = [];
  private waitingBytes = 0;
  private timeout: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private inFlight = 0;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    options: SendBatcherOptions = {},
  ) {
    this.lingerMs = checkMs('lingerMs', options.lingerMs ?? 0);
    this.maxWaitMs = checkMs('maxWaitMs', options.maxWaitMs ?? 20);
    this.maxEntries = options.maxEntries ?? 10;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1 || this.maxEntries > 10) {
      throw new InvalidBatchOptionError(`maxEntries must be a whole number from 1 to 10, got ${this.maxEntries}`);
    }
  }

  add(entry: BatchEntry): Promise<string> {
    return new Promise((resolve, reject) => {
      // An entry that would push the batch past SQS's byte limit starts the next one instead.
      if (this.waiting.length > 0 && this.waitingBytes + entry.bytes > MAX_BATCH_BYTES) this.flush();
      this.waiting.push({ ...entry, resolve, reject });
      this.waitingBytes += entry.bytes;
      if (this.waiting.length >= this.maxEntries) this.flush();
      else if (this.timeout === undefined && this.immediate === undefined) this.schedule();
    });
  }

  private schedule(): void {
    if (this.lingerMs > 0) this.timeout = setTimeout(() => this.flush(), this.lingerMs);
    else if (this.inFlight > 0) this.timeout = setTimeout(() => this.flush(), this.maxWaitMs);
    else this.immediate = setImmediate(() => this.flush());
  }

  private flush(): void {
    clearTimeout(this.timeout);
    clearImmediate(this.immediate);
    this.timeout = undefined;
    this.immediate = undefined;
    const batch = this.waiting;
    this.waiting = [];
    this.waitingBytes = 0;
    if (batch.length === 0) return;
    this.inFlight++;
    void this.send(batch).finally(() => {
      this.inFlight--;
      // Group commit: what gathered while the batches were out goes now.
      if (this.lingerMs === 0 && this.inFlight === 0 && this.waiting.length > 0) this.flush();
    });
  }

  private async send(batch: Waiting[]): Promise<void> {
    let res;
    try {
      res = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((e, i) => ({ Id: String(i), MessageBody: e.body, MessageAttributes: e.attributes })),
        }),
      );
    } catch (err) {
      const reason = new EntryFailedError((err as Error).name || 'error', true);
      for (const e of batch) e.reject(reason);
      return;
    }
    const stored = new Map((res.Successful ?? []).map((s) => [s.Id, s.MessageId]));
    const failed = new Map((res.Failed ?? []).map((f) => [f.Id, f]));
    batch.forEach((e, i) => {
      const messageId = stored.get(String(i));
      // Only an entry SQS confirmed counts as stored; one missing from both lists did not make it.
      if (messageId) return e.resolve(messageId);
      const entry = failed.get(String(i));
      e.reject(new EntryFailedError(entry?.Code ?? 'no result for the entry', entry?.SenderFault !== true));
    });
  }
}
