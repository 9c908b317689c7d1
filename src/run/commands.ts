import type { Logger } from 'pino';
import { loadConfig, type Config } from '../config';
import { Worker } from '../consume/worker';
import { EventQueue } from '../ingest/event-queue';
import { runMigrations } from '../db/data-source';
import { createApp, WEBHOOK_PATH } from '../ingest/app';
import { createLogger } from '../log';
import { banner } from './banner';
import { listen } from './http-server';
import { Closers, openDatabase, openQueue, resolveSecrets, StartupError, type Database, type Queue } from './resources';
import { startSweeper } from './sweeper';

export interface Running {
  config: Config;
  logger: Logger;
  url?: string;
  database?: Database;
  queue?: Queue;
  stop(): Promise<void>;
}

type Role = 'webhook' | 'worker';

function requireExternalQueue(config: Config, command: string): void {
  if (!config.queue) {
    throw new StartupError(
      `billing ${command} needs SQS_QUEUE_URL and SQS_DLQ_URL; run \`billing dev\` to use the embedded queue`,
    );
  }
}

/**
 * Starts the webhook, the worker (with the overdue sweep), or both in one process, on whatever
 * mix of embedded and external services the configuration names.
 */
export interface StartOptions {
  logger?: Logger;
  /** Skip the banner (tests and embedding). */
  quiet?: boolean;
}

export async function start(roles: Role[], env: NodeJS.ProcessEnv = process.env, options: StartOptions = {}): Promise<Running> {
  const config = loadConfig(env);
  const log = options.logger ?? createLogger(config.logLevel);
  const closers = new Closers();
  try {
    const queue = await openQueue(config, log, closers);
    const database = roles.includes('worker') ? await openDatabase(config, log, closers) : undefined;
    let url: string | undefined;
    const secrets = roles.includes('webhook') ? await resolveSecrets(config) : undefined;

    if (database) {
      const worker = new Worker({
        ds: database.ds,
        sqs: queue.sqs,
        queueUrl: queue.url,
        logger: log,
        pollers: config.workerPollers,
        waitTimeSeconds: queue.embedded ? 1 : config.waitTimeSeconds,
        visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      });
      worker.start();
      closers.push('worker', () => worker.stop());
      closers.push('sweeper', startSweeper(database.ds, config.sweepIntervalSeconds, log));
    }

    if (secrets) {
      const eventQueue = new EventQueue(queue.sqs, queue.url);
      const app = createApp({
        queue: eventQueue,
        secrets: () => secrets.values,
        toleranceSeconds: config.toleranceSeconds,
        maxBodyBytes: config.maxBodyBytes,
        logger: log,
        readiness: async () => {
          await eventQueue.ping().catch(() => {
            throw new Error('queue unreachable');
          });
          if (database) {
            await database.ds.query('SELECT 1').catch(() => {
              throw new Error('database unreachable');
            });
          }
        },
      });
      const http = await listen(app, config.host, config.port);
      closers.push('http', () => http.close());
      url = `http://${config.host}:${http.port}${WEBHOOK_PATH}`;
    }

    if (!options.quiet) process.stdout.write(banner({ url, secrets, database, queue, roles }));
    return { config, logger: log, url, database, queue, stop: () => closers.closeAll(log) };
  } catch (err) {
    await closers.closeAll(log);
    throw err;
  }
}

export function requireQueueFor(command: string, env: NodeJS.ProcessEnv = process.env): void {
  requireExternalQueue(loadConfig(env), command);
}

/** Applies migrations and exits; the same ones run automatically when the processor starts. */
export async function migrate(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const config = loadConfig(env);
  const log = createLogger(config.logLevel);
  const closers = new Closers();
  try {
    const db = await openDatabase(config, log, closers, false);
    return await runMigrations(db.ds);
  } finally {
    await closers.closeAll(log);
  }
}
