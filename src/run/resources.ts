import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { createDataSource, runMigrations } from '../db/data-source';
import { startEmbeddedPostgres } from '../embedded/embedded-postgres';
import { startEmbeddedSqs } from '../embedded/embedded-sqs';
import { restoreQueues, saveQueues } from '../embedded/queue-persistence';
import { findEmbeddedSqs, registerEmbeddedSqs } from '../embedded/embedded-sqs-registry';
import { localWebhookSecret } from '../embedded/webhook-secret';
import { createSqsClient } from '../queue/sqs-client';

/** Things to undo on shutdown, undone last-opened first. */
export class Closers {
  private readonly stack: Array<{ name: string; close: () => Promise<void> }> = [];

  push(name: string, close: () => Promise<void>): void {
    this.stack.push({ name, close });
  }

  async closeAll(logger: Logger): Promise<void> {
    while (this.stack.length > 0) {
      const { name, close } = this.stack.pop()!;
      try {
        await close();
      } catch (err) {
        logger.error({ err: (err as Error).message, component: name }, 'error while stopping');
      }
    }
  }
}

export interface Database {
  ds: DataSource;
  url: string;
  embedded: boolean;
}

export interface Queue {
  sqs: SQSClient;
  url: string;
  dlqUrl: string;
  embedded: boolean;
  endpoint?: string;
}

export interface Secrets {
  values: string[];
  /** True when the secret was generated and kept under DATA_DIR; only such a secret is ever printed. */
  generated: boolean;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export async function openDatabase(config: Config, logger: Logger, closers: Closers, migrate = true): Promise<Database> {
  let url = config.databaseUrl;
  const embedded = url === undefined;
  if (url === undefined) {
    const pg = await startEmbeddedPostgres(config.dataDir, logger);
    closers.push('embedded-postgres', () => pg.stop());
    url = pg.url;
  }
  const ds = createDataSource({ url, poolSize: config.databasePoolSize });
  try {
    await ds.initialize();
  } catch (err) {
    throw new StartupError(`cannot connect to the database: ${(err as Error).message}`);
  }
  closers.push('database', () => ds.destroy());
  if (migrate) {
    const applied = await runMigrations(ds);
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
  }
  return { ds, url, embedded };
}

export async function openQueue(config: Config, logger: Logger, closers: Closers): Promise<Queue> {
  if (config.queue) return connectQueue(config, closers);
  const server = await startEmbeddedSqs({
    maxReceiveCount: config.maxReceiveCount,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    inThread: true,
  });
  closers.push('embedded-sqs', () => server.stop());
  const sqs = createSqsClient({ region: 'us-east-1', endpoint: server.endpoint });
  const urls = [server.queueUrl, server.dlqUrl];
  const restored = await restoreQueues(sqs, config.dataDir, urls);
  if (restored > 0) logger.info({ messages: restored }, 'restored messages queued before the last stop');
  // Registered after the server, so it runs before the server stops.
  closers.push('embedded-sqs-save', async () => {
    const saved = await saveQueues(sqs, config.dataDir, urls);
    if (saved > 0) logger.info({ messages: saved }, 'saved queued messages for the next start');
  });
  const unregister = await registerEmbeddedSqs(config.dataDir, { endpoint: server.endpoint, queueUrl: server.queueUrl, dlqUrl: server.dlqUrl });
  closers.push('embedded-sqs-registry', unregister);
  return { sqs, url: server.queueUrl, dlqUrl: server.dlqUrl, embedded: true, endpoint: server.endpoint };
}

/** For one-off commands: the configured queue, or the embedded one of a running `billing dev`; never starts one. */
export async function connectQueue(config: Config, closers: Closers): Promise<Queue> {
  if (config.queue) {
    const sqs = createSqsClient({ region: config.awsRegion, endpoint: config.sqsEndpoint });
    closers.push('sqs-client', async () => sqs.destroy());
    return { sqs, url: config.queue.url, dlqUrl: config.queue.dlqUrl, embedded: false };
  }
  const running = await findEmbeddedSqs(config.dataDir);
  if (running === null) {
    throw new StartupError('no queue: set SQS_QUEUE_URL and SQS_DLQ_URL, or start `npm start` (its embedded queue is reachable only while it runs)');
  }
  const sqs = createSqsClient({ region: 'us-east-1', endpoint: running.endpoint });
  closers.push('sqs-client', async () => sqs.destroy());
  return { sqs, url: running.queueUrl, dlqUrl: running.dlqUrl, embedded: true, endpoint: running.endpoint };
}

export async function resolveSecrets(config: Config): Promise<Secrets> {
  if (config.webhookSecrets.length > 0) return { values: config.webhookSecrets, generated: false };
  return { values: [await localWebhookSecret(config.dataDir)], generated: true };
}
