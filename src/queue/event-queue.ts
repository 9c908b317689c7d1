import { GetQueueAttributesCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import { BillingError } from '../errors';
import { SendBatcher, type SendBatcherOptions } from './send-batcher';

/** The queue could not take the event; the webhook answers 503 and Stripe retries. */
export class QueueUnavailableError extends BillingError {
  override readonly name = 'QueueUnavailableError';
  readonly retryable = true;
}

/** Even without its line items the event does not fit in one message. */
export class EventTooLargeError extends BillingError {
  override readonly name = 'EventTooLargeError';
  readonly retryable = false;
}

/** SQS's limit before 2025-08 and still the setting of older queues; used until the queue tells us. */
const CONSERVATIVE_MAX_BYTES = 262_144;

/**
 * Drops what the processor never reads (line items, which Stripe also serves from
 * GET /v1/invoices/:id/lines) so a very large invoice still fits one queue message.
 */
export function slimEvent(event: Record<string, unknown>): string {
  const copy = structuredClone(event) as { data?: { object?: { lines?: Record<string, unknown> }; previous_attributes?: Record<string, unknown> } };
  const lines = copy.data?.object?.lines;
  if (lines && typeof lines === 'object') {
    lines['data'] = [];
    lines['has_more'] = true;
  }
  if (copy.data?.previous_attributes && 'lines' in copy.data.previous_attributes) {
    delete copy.data.previous_attributes['lines'];
  }
  return JSON.stringify(copy);
}

/** SQS counts an attribute's name, type and value towards the message size. */
function attributeBytes(attributes: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(attributes)) n += Buffer.byteLength(k) + 'String'.length + Buffer.byteLength(v);
  return n;
}

export type EventQueueOptions = SendBatcherOptions;

/**
 * Puts verified events on the queue. Sends that arrive together, or while an earlier batch is on
 * its way, share one SendMessageBatch (see SendBatcher), and each caller's promise settles on its
 * own entry's result: resolved only once SQS has stored that message, rejected if that entry (or
 * the whole call) failed.
 */
export class EventQueue {
  private maxBytes: Promise<number> | undefined;
  private readonly batcher: SendBatcher;

  constructor(
    private readonly sqs: SQSClient,
    readonly queueUrl: string,
    options: EventQueueOptions = {},
  ) {
    this.batcher = new SendBatcher(sqs, queueUrl, options);
  }

  /** The queue's MaximumMessageSize, asked once; a failed answer is asked again next time. */
  private messageLimit(): Promise<number> {
    this.maxBytes ??= this.sqs
      .send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['MaximumMessageSize'] }))
      .then((res) => {
        const size = Number(res.Attributes?.['MaximumMessageSize']);
        return Number.isSafeInteger(size) && size > 0 ? size : CONSERVATIVE_MAX_BYTES;
      })
      .catch(() => {
        this.maxBytes = undefined;
        return CONSERVATIVE_MAX_BYTES;
      });
    return this.maxBytes;
  }

  /** Resolves once SQS has stored the message; rejects with QueueUnavailableError otherwise. */
  async send(payload: string, event: Record<string, unknown>, attributes: Record<string, string> = {}): Promise<{ messageId: string; slimmed: boolean }> {
    const limit = await this.messageLimit();
    const extra = attributeBytes(attributes);
    let body = payload;
    let bytes = Buffer.byteLength(body, 'utf8') + extra;
    let slimmed = false;
    if (bytes > limit) {
      try {
        body = slimEvent(event);
      } catch {
        // Nested too deeply to copy or serialise again (a RangeError): it can never be made to fit,
        // and a 503 would have Stripe retry it for three days.
        throw new EventTooLargeError(`event is ${bytes} bytes and nested too deeply to drop its line items; the queue takes ${limit}`);
      }
      bytes = Buffer.byteLength(body, 'utf8') + extra;
      slimmed = true;
      if (bytes > limit) {
        throw new EventTooLargeError(`event is ${bytes} bytes without line items; the queue takes ${limit}`);
      }
    }
    const MessageAttributes: Record<string, MessageAttributeValue> | undefined = extra
      ? Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]))
      : undefined;
    try {
      const messageId = await this.batcher.add({ body, attributes: MessageAttributes, bytes });
      return { messageId, slimmed };
    } catch (err) {
      throw new QueueUnavailableError(`queue did not take the event: ${(err as Error).message ?? 'error'}`);
    }
  }

  async ping(): Promise<void> {
    await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }));
  }
}
