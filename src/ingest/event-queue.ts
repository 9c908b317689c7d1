import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** The queue could not take the event; the webhook answers 503 and Stripe retries. */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
  readonly retryable = true;
}

/** Even without its line items the event does not fit in one message. */
export class EventTooLargeError extends Error {
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

export class EventQueue {
  private maxBytes: number | undefined;

  constructor(
    private readonly sqs: SQSClient,
    readonly queueUrl: string,
  ) {}

  /** The queue's MaximumMessageSize, asked once; unknown until the queue has answered. */
  private async messageLimit(): Promise<number> {
    if (this.maxBytes !== undefined) return this.maxBytes;
    try {
      const res = await this.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['MaximumMessageSize'] }),
      );
      const size = Number(res.Attributes?.['MaximumMessageSize']);
      this.maxBytes = Number.isSafeInteger(size) && size > 0 ? size : CONSERVATIVE_MAX_BYTES;
      return this.maxBytes;
    } catch {
      return CONSERVATIVE_MAX_BYTES;
    }
  }

  /** Resolves once SQS has stored the message; rejects with QueueUnavailableError otherwise. */
  async send(payload: string, event: Record<string, unknown>, attributes: Record<string, string> = {}): Promise<{ messageId: string; slimmed: boolean }> {
    let body = payload;
    let slimmed = false;
    const limit = await this.messageLimit();
    if (Buffer.byteLength(body, 'utf8') > limit) {
      body = slimEvent(event);
      slimmed = true;
      if (Buffer.byteLength(body, 'utf8') > limit) {
        throw new EventTooLargeError(`event is ${Buffer.byteLength(body)} bytes without line items; the queue takes ${limit}`);
      }
    }
    try {
      const MessageAttributes = Object.keys(attributes).length
        ? Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]))
        : undefined;
      const res = await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: body, MessageAttributes }));
      return { messageId: res.MessageId ?? '', slimmed };
    } catch (err) {
      throw new QueueUnavailableError(`queue did not take the event: ${(err as Error).name ?? 'error'}`);
    }
  }

  async ping(): Promise<void> {
    await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }));
  }
}
