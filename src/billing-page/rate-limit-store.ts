import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import type { EntityManager } from 'typeorm';
import { countHit, resetHits, uncountHit } from '../db/billing-page-hits';

/**
 * express-rate-limit's Store over billing_page_hits, so every process and Lambda instance serving
 * the page counts against one limit. One store per limiter: `prefix` ('ip:' or 'token:') keeps the
 * limits' keys apart in the one table. The keys it receives are addresses and token hashes, never
 * tokens. A database that cannot be reached rejects; the limiter is told to let the request
 * through (passOnStoreError), and the page, which needs the same database, answers 503.
 */
export class DatabaseRateLimitStore implements Store {
  readonly localKeys = false;
  private windowSeconds = 60;

  constructor(
    readonly prefix: string,
    private readonly db: () => Promise<EntityManager>,
  ) {}

  init(options: Options): void {
    this.windowSeconds = options.windowMs / 1000;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const { hits, resetAt } = await countHit(await this.db(), this.prefix + key, this.windowSeconds);
    return { totalHits: hits, resetTime: resetAt };
  }

  async decrement(key: string): Promise<void> {
    await uncountHit(await this.db(), this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    await resetHits(await this.db(), this.prefix + key);
  }
}
