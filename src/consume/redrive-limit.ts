import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { maxReceiveCountOf } from '../queue/redrive-policy';
import { errorText } from '../pipeline/types';

/** A lookup must not hold up the failure it is asked about for long. */
const LOOKUP_TIMEOUT_MS = 5000;

/**
 * The queue's maxReceiveCount as its RedrivePolicy says (the queue decides when a message is
 * dead-lettered, whatever this process was told). Read once; while it cannot be read the
 * configured SQS_MAX_RECEIVE_COUNT stands in, and the next lookup tries again.
 */
export class RedriveLimit {
  private known: { value: number | null } | undefined;
  private pending: Promise<number | null> | undefined;
  private warned = false;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly fallback: number,
    private readonly logger: Logger,
  ) {}

  /** maxReceiveCount, or null when the queue has no DLQ. */
  async get(): Promise<number | null> {
    if (this.known) return this.known.value;
    this.pending ??= this.read().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async read(): Promise<number | null> {
    let attribute: string | undefined;
    try {
      const res = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['RedrivePolicy'] }), {
        abortSignal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
      });
      attribute = res.Attributes?.['RedrivePolicy'];
    } catch (err) {
      this.warnOnce({ err: errorText(err), maxReceiveCount: this.fallback }, 'cannot read the queue\'s redrive policy; assuming SQS_MAX_RECEIVE_COUNT');
      return this.fallback;
    }
    try {
      const value = maxReceiveCountOf(attribute);
      if (value === null) this.logger.warn('the queue has no redrive policy: a failing message is received again until it expires, never dead-lettered');
      this.known = { value };
      return value;
    } catch (err) {
      this.warnOnce({ err: errorText(err), maxReceiveCount: this.fallback }, 'cannot read the queue\'s redrive policy; assuming SQS_MAX_RECEIVE_COUNT');
      this.known = { value: this.fallback };
      return this.fallback;
    }
  }

  private warnOnce(fields: Record<string, unknown>, msg: string): void {
    if (this.warned) return;
    this.warned = true;
    this.logger.warn(fields, msg);
  }
}
