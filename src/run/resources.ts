import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { acquireDataDirLock, DataDirLock, inUseMessage, type LockHolder } from '../embedded/data-dir-lock';
import { embeddedUrl, startEmbeddedPostgres } from '../embedded/embedded-postgres';
import { accessHeldDatabase, type Lifetime } from '../embedded/held-database';
import { findEmbeddedSqs, registerEmbeddedSqs } from '../embedded/embedded-sqs-registry';
import { localPortalSecret, localWebhookSecret } from '../embedded/webhook-secret';
import { BillingError } from '../errors';

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
  /** The embedded server, when this process started it or uses another process's. */
  server?: EmbeddedServer;
}

export interface EmbeddedServer {
  /** With its generated password, which is local and may be shown (the banner's psql line). */
  url: string;
  /** Kept in DATA_DIR, so a saved connection keeps working. */
  port: number;
  /** Where its files are; only known to the process that started it. */
  clusterDir?: string;
  /** Why those files are outside DATA_DIR, when they are. */
  outsideDataDir?: string;
  /** Who the server runs as, when that is worth saying. */
  runsAs?: string;
  /** The pid of the process whose server this is, when it is not this one. */
  sharedFrom?: number;
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

export class StartupError extends BillingError {
  override readonly name = 'StartupError';
  readonly retryable = false;
  /** The CLI exits 2 and prints the one line: it says what to change before starting again. */
  override readonly exitCode = 2;
}

// The database driver, the AWS SDK and the queue server are loaded by the functions that use
// them (`require`: the build is CommonJS), so a command pays at start-up only for what it opens.
const dataSourceModule = () => require('../db/data-source') as typeof import('../db/data-source');
const sqsClientModule = () => require('../queue/sqs-client') as typeof import('../queue/sqs-client');
const embeddedSqsModule = () => require('../embedded/embedded-sqs') as typeof import('../embedded/embedded-sqs');
const queuePersistenceModule = () => require('../embedded/queue-persistence') as typeof import('../embedded/queue-persistence');

/** The DATA_DIR lock held for each start (one Closers), so its queue and database share it. */
const locks = new WeakMap<Closers, DataDirLock>();
/** Closers of long-running processes, which are the only callers of openQueue. */
const services = new WeakSet<Closers>();

/**
 * DATA_DIR for this start, or the live process that has it. Released last, after the services
 * it guards have stopped.
 */
async function takeDataDir(config: Config, logger: Logger, closers: Closers, shared: boolean): Promise<DataDirLock | LockHolder> {
  const held = locks.get(closers);
  if (held) {
    if (shared && !held.shared) await held.update({ shared: true });
    return held;
  }
  const taken = await acquireDataDirLock(config.dataDir, { shared }).catch((err: Error) => {
    throw new StartupError(`cannot use DATA_DIR ${config.dataDir}: ${err.message}`);
  });
  if ('holder' in taken) return taken.holder;
  if (taken.tookOverFrom) {
    logger.warn({ pid: taken.tookOverFrom.pid, command: taken.tookOverFrom.command }, 'took over DATA_DIR from a process that is no longer running');
  }
  locks.set(closers, taken.lock);
  closers.push('data-dir-lock', async () => {
    locks.delete(closers);
    await taken.lock.release();
  });
  return taken.lock;
}

/** How long a one-off command waits for a starting `billing dev` to bring its database up. */
const SHARED_DATABASE_WAIT_MS = 30_000;

async function startDatabaseServer(config: Config, logger: Logger, closers: Closers, lock: DataDirLock): Promise<EmbeddedServer> {
  let pg;
  try {
    pg = await startEmbeddedPostgres(config.dataDir, logger);
  } catch (err) {
    throw new StartupError(`cannot start the embedded PostgreSQL: ${(err as Error).message.replace(/\s*\n\s*/g, ' ')}`);
  }
  closers.push('embedded-postgres', () => pg.stop());
  await lock.update({ postgresPort: pg.port });
  const { url, port, clusterDir, outsideDataDir, runsAs } = pg;
  return { url, port, clusterDir, outsideDataDir, runsAs };
}

/**
 * The embedded database: started by this process, which then holds DATA_DIR; or, for a one-off
 * command, the one a running `billing dev` (or worker, or mailer) serves from the same DATA_DIR.
 * A server started by a one-off command is never shared: it stops when that command ends.
 */
async function embeddedDatabase(config: Config, logger: Logger, closers: Closers, lifetime: Lifetime): Promise<EmbeddedServer> {
  const deadline = Date.now() + SHARED_DATABASE_WAIT_MS;
  for (;;) {
    const taken = await takeDataDir(config, logger, closers, lifetime === 'service');
    if (taken instanceof DataDirLock) return startDatabaseServer(config, logger, closers, taken);
    const access = accessHeldDatabase(lifetime, taken);
    if (access === 'share') {
      const url = await embeddedUrl(config.dataDir, taken.postgresPort!);
      if (url !== null) return { url, port: taken.postgresPort!, sharedFrom: taken.pid };
    }
    if (access === 'wait' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    throw new StartupError(inUseMessage(config.dataDir, taken));
  }
}

/**
 * `lifetime` says whether this is a long-running process (it then refuses a DATA_DIR another
 * process holds) or a one-off command (it may use a running process's database). Closers that
 * went through openQueue are a long-running process's.
 */
export async function openDatabase(config: Config, logger: Logger, closers: Closers, migrate = true, lifetime?: Lifetime): Promise<Database> {
  let url = config.databaseUrl;
  let server: EmbeddedServer | undefined;
  if (url === undefined) {
    server = await embeddedDatabase(config, logger, closers, lifetime ?? (services.has(closers) ? 'service' : 'command'));
    url = server.url;
  }
  const embedded = server !== undefined;
  const { createDataSource, runMigrations } = dataSourceModule();
  const ds = createDataSource({ url, poolSize: config.databasePoolSize, preparedStatements: config.databasePreparedStatements });
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
  return { ds, url, embedded, server };
}

/** For long-running processes; one-off commands use connectQueue. */
export async function openQueue(config: Config, logger: Logger, closers: Closers): Promise<Queue> {
  services.add(closers);
  if (config.queue) return connectQueue(config, closers);
  // Before the queue starts: a second process must not replace the first one's registry.
  const taken = await takeDataDir(config, logger, closers, true);
  if (!(taken instanceof DataDirLock)) throw new StartupError(inUseMessage(config.dataDir, taken));
  const { startEmbeddedSqs } = embeddedSqsModule();
  const { restoreQueues, saveQueues } = queuePersistenceModule();
  const { createSqsClient } = sqsClientModule();
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
  const { createSqsClient } = sqsClientModule();
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

/** PORTAL_SIGNING_SECRET's values, else the one generated once and kept under DATA_DIR. */
export async function resolvePortalSecrets(config: Config): Promise<string[]> {
  if (config.portal.signingSecrets.length > 0) return config.portal.signingSecrets;
  return [await localPortalSecret(config.dataDir)];
}
