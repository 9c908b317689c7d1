import type { Logger } from 'pino';
import { SQSError } from 'sqs-consumer';
import { abortableSleep } from './abortable-sleep';

/**
 * A failed ReceiveMessage, as sqs-consumer reports it: an SQSError that names no message. Its
 * other SQSErrors (a failed delete or visibility change) carry the `messageIds` they concern,
 * and a handler's own errors are not SQSErrors; those pass through.
 */
export const isReceiveFailure = (err: unknown): boolean => err instanceof SQSError && err.messageIds === undefined;

/**
 * Spaces out receives while the queue does not answer. sqs-consumer polls again at once after a
 * failed receive unless it recognises the error (credentials, throttling): a refused connection
 * would spin every poller and write an error line per try, dozens a second. Shared by the pollers.
 */
export class QueueGate {
  private failures = 0;
  private readonly abort = new AbortController();

  constructor(
    private readonly logger: Logger,
    private readonly maxBackoffMs = 5000,
  ) {}

  /** Before each receive: waits out the backoff the failures so far call for. */
  async beforeReceive(): Promise<void> {
    if (this.failures === 0) return;
    await abortableSleep(Math.min(250 * 2 ** (this.failures - 1), this.maxBackoffMs), this.abort.signal);
  }

  /** A receive answered: the queue is back. */
  received(): void {
    if (this.failures > 0) this.logger.info({ failedReceives: this.failures }, 'queue reachable again; receiving');
    this.failures = 0;
  }

  /** Logged when the outage starts; later failures only lengthen the backoff. */
  receiveFailed(err: string): void {
    if (this.failures === 0) this.logger.error({ err }, 'queue unreachable; receiving again with backoff');
    this.failures++;
  }

  close(): void {
    this.abort.abort();
  }
}
