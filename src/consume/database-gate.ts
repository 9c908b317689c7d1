import type { Logger } from 'pino';
import { abortableSleep } from './abortable-sleep';
import type { DataSource } from 'typeorm';
import { ping } from '../db/ping';

/**
 * Holds polling while the database is unreachable. Receiving messages we cannot process would
 * only spend their receive count and push good events into the DLQ.
 */
export class DatabaseGate {
  private down = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly ds: DataSource,
    private readonly logger: Logger,
    private readonly maxBackoffMs = 5000,
  ) {}

  markDown(): void {
    if (!this.down) this.logger.warn('database unreachable; pausing the queue until it answers');
    this.down = true;
  }

  /** Resolves when the database answers (at once if it was never marked down) or the gate is closed. */
  async waitUntilUp(): Promise<void> {
    let backoff = 250;
    while (this.down && !this.abort.signal.aborted) {
      try {
        await ping(this.ds);
        this.down = false;
        this.logger.info('database reachable again; resuming the queue');
      } catch {
        await abortableSleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
      }
    }
  }

  close(): void {
    this.abort.abort();
  }
}
