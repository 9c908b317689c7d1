import pino, { type Logger } from 'pino';
import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import { loadConfig, type Config } from '../config';
import { createLogger } from '../log';
import { Closers, connectQueue, openDatabase, type Queue } from '../run/resources';
import { createStripeClient } from '../stripe/api-client';

export interface Services {
  config: Config;
  logger: Logger;
  ds: DataSource;
  queue: Queue;
  stripe: Stripe;
}

export interface Needs {
  queue?: boolean;
  /** What needs the API, for the error when STRIPE_SECRET_KEY is missing. */
  stripe?: string;
  /** False for commands that need no database at all (moving queue messages). */
  database?: boolean;
}

/**
 * Opens what one command needs, and closes it after. Missing configuration fails before any
 * service is started, so a command with a bad argument or no key never leaves work half done.
 */
export async function withServices<T>(needs: Needs, fn: (s: Services) => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const config = loadConfig(env);
  // stderr: stdout carries the command's answer, which a script may parse as JSON.
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination({ fd: 2, sync: true }));
  const stripe = needs.stripe === undefined ? undefined : createStripeClient(config.stripe, needs.stripe);
  const closers = new Closers();
  try {
    const queue = needs.queue ? await connectQueue(config, closers) : undefined;
    const db = needs.database === false ? undefined : await openDatabase(config, logger, closers);
    // The unrequested members are never read by a command that did not ask for them.
    return await fn({ config, logger, ds: db?.ds as DataSource, queue: queue as Queue, stripe: stripe as Stripe });
  } finally {
    await closers.closeAll(logger);
  }
}

/** Opens the configured (or embedded) database for one command, migrated, and closes it after. */
export function withDatabase<T>(fn: (ds: DataSource) => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  return withServices({}, (s) => fn(s.ds), env);
}

/** A bad argument: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}
