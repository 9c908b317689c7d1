import pino, { type Logger } from 'pino';
import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import { loadConfig, type Config } from '../config';
import { createLogger } from '../log';
import { Closers, connectQueue, openDatabase, type Queue } from '../run/resources';

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
 * The queue for a one-off command. Its output is read by people and scripts: the AWS SDK's notice
 * that its releases after January 2027 need Node 22 is for whoever runs the services, whose logs
 * keep it, so it is not printed here.
 */
export function commandQueue(config: Config, closers: Closers): Promise<Queue> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  return connectQueue(config, closers);
}

/**
 * Opens what one command needs, and closes it after. Missing configuration fails before any
 * service is started, so a command with a bad argument or no key never leaves work half done.
 */
export async function withServices<T>(needs: Needs, fn: (s: Services) => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const config = loadConfig(env);
  // stderr: stdout carries the command's answer, which a script may parse as JSON.
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination({ fd: 2, sync: true }));
  // Loaded only by the commands that call Stripe: the SDK is a tenth of a second of every start.
  const stripe =
    needs.stripe === undefined
      ? undefined
      : (require('../stripe/api-client') as typeof import('../stripe/api-client')).createStripeClient(config.stripe, needs.stripe);
  const closers = new Closers();
  try {
    const queue = needs.queue ? await commandQueue(config, closers) : undefined;
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

