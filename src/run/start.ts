import path from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../config';
import { noticePolicy } from '../effects/notice-effects';
import { workerPollers } from '../consume/pollers';
import { Worker } from '../consume/worker';
import { parseMailFrom } from '../mail/address';
import { Mailer } from '../mail/mailer';
import { fileTransport, smtpTransport } from '../mail/transport';
import { createStripeClient } from '../stripe/api-client';
import { pipelineOptions } from '../pipeline/options';
import { EventQueue } from '../queue/event-queue';
import { runMigrations } from '../db/data-source';
import { createApp, WEBHOOK_PATH } from '../ingest/app';
import { createReceivingSqsClient } from '../queue/sqs-client';
import { createLogger } from '../log';
import { banner } from './banner';
import { listen, type Listening } from './http-server';
import { limitHeapGrowth } from './heap-growth';
import { metricsEndpoint } from '../metrics/metrics-endpoint';
import { PrometheusMetrics } from '../metrics/prometheus';
import { createStatusApp } from './status-routes';
import { Closers, openDatabase, openQueue, resolvePortalSecrets, resolveSecrets, StartupError, type Database, type Queue } from './resources';
import { pageDatabase } from './page-database';
import { startSweeper } from './sweeper';
import { sweepOptionsOf } from '../sweep/invoice-sweep';
import { ping } from '../db/ping';

export interface Running {
  config: Config;
  logger: Logger;
  /** The webhook's URL, when this process takes webhooks. */
  url?: string;
  /** Where the billing pages are served, when this process serves them (`billing portal-url` mints the tokens). */
  billingPageUrl?: string;
  /** GET /metrics of this process; every long-running process serves it (and /healthz, /readyz). */
  metricsUrl: string;
  metrics: PrometheusMetrics;
  database?: Database;
  queue?: Queue;
  stop(): Promise<void>;
}

export type Role = 'webhook' | 'worker' | 'mailer';

/**
 * The webhook server holds each verified event this long (ms) for others to share its
 * SendMessageBatch. A call costs the SDK about a millisecond of CPU whatever it carries, so at a
 * few hundred webhooks a second this is most of the server's work saved, for a few milliseconds
 * on answers that Stripe gives seconds to arrive.
 */
const WEBHOOK_LINGER_MS = 10;

function mailFrom(config: Config) {
  try {
    return parseMailFrom(config.mail.from);
  } catch (err) {
    throw new StartupError(`MAIL_FROM: ${(err as Error).message}`);
  }
}

/** The HTTP port, or a one-line reason why not that names the variables to change. */
async function listenOn(app: Parameters<typeof listen>[0], config: Config): Promise<Listening> {
  try {
    return await listen(app, config.host, config.port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new StartupError(`cannot listen on ${config.host}:${config.port} (${code}): set HOST and PORT (PORT=0 picks a free port)`);
  }
}

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
  limitHeapGrowth(config.heapGrowthPercent);
  const log = options.logger ?? createLogger(config.logLevel);
  const closers = new Closers();
  try {
    const needsQueue = roles.includes('webhook') || roles.includes('worker');
    const queue = needsQueue ? await openQueue(config, log, closers) : undefined;
    const database = roles.includes('worker') || roles.includes('mailer') ? await openDatabase(config, log, closers, true, 'service') : undefined;
    let mailTarget: string | undefined;
    const stripe = config.stripe.secretKey ? createStripeClient(config.stripe, 'fetching objects') : undefined;
    let url: string | undefined;
    const secrets = roles.includes('webhook') ? await resolveSecrets(config) : undefined;
    // The billing page is served beside the webhook, on the same port.
    const portalSecrets = roles.includes('webhook') ? await resolvePortalSecrets(config) : undefined;
    const metrics = new PrometheusMetrics({
      roles: { webhook: roles.includes('webhook'), worker: roles.includes('worker'), mailer: roles.includes('mailer') },
      // Every process that can see them reports these two, so they outlive any one process.
      ...(queue ? { queue: { sqs: queue.sqs, urls: { events: queue.url, dlq: queue.dlqUrl } } } : {}),
      ...(database ? { outbox: database.ds } : {}),
      logger: log,
    });

    if (database && roles.includes('mailer')) {
      const from = mailFrom(config);
      const transport = config.mail.smtpUrl ? smtpTransport(config.mail.smtpUrl) : fileTransport(path.join(config.dataDir, 'mail'));
      mailTarget = transport.describe;
      const mailer = new Mailer({
        ds: database.ds,
        transport,
        logger: log,
        from,
        maxAttempts: config.mail.maxAttempts,
        maxBackoffSeconds: config.mail.maxBackoffSeconds,
        concurrency: config.mail.concurrency,
        pollIntervalMs: config.mail.pollIntervalMs,
        receiptWaitSeconds: config.mail.receiptWaitSeconds,
        metrics,
      });
      mailer.start();
      closers.push('mailer', () => mailer.stop());
    }

    if (database && queue && roles.includes('worker')) {
      // A client of its own: its long polls wait far longer than a webhook's send may.
      const receiver = createReceivingSqsClient({
        ...(queue.endpoint ? { region: 'us-east-1', endpoint: queue.endpoint } : { region: config.awsRegion, endpoint: config.sqsEndpoint }),
        receiveTimeoutSeconds: config.receiveTimeoutSeconds,
      });
      closers.push('worker-sqs-client', async () => receiver.destroy());
      const worker = new Worker({
        ds: database.ds,
        sqs: receiver,
        queueUrl: queue.url,
        logger: log,
        pollers: workerPollers(config.workerPollers, queue.embedded),
        transactions: config.workerTransactions,
        waitTimeSeconds: queue.embedded ? 1 : config.waitTimeSeconds,
        visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
        maxReceiveCount: config.maxReceiveCount,
        metrics,
        ...pipelineOptions(config, stripe, log),
      });
      worker.start();
      closers.push('worker', () => worker.stop());
      closers.push('sweeper', startSweeper(database.ds, config.sweepIntervalSeconds, noticePolicy(config), log, metrics, sweepOptionsOf(config)));
    }

    const status = {
      metricsEndpoint: metricsEndpoint({
        page: metrics,
        token: config.metricsToken,
        onError: (err) => log.error({ err: (err as Error).message }, 'cannot render /metrics'),
      }),
      readiness: async () => {
        if (queue) {
          await queue.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['QueueArn'] })).catch(() => {
            throw new Error('queue unreachable');
          });
        }
        if (database) {
          await ping(database.ds).catch(() => {
            throw new Error('database unreachable');
          });
        }
      },
    };
    // Every long-running process listens: the webhook's, or status routes only for a worker or mailer.
    const app =
      secrets && queue
        ? createApp({
            ...status,
            queue: new EventQueue(queue.sqs, queue.url, { lingerMs: WEBHOOK_LINGER_MS }),
            secrets: () => secrets.values,
            toleranceSeconds: config.toleranceSeconds,
            maxBodyBytes: config.maxBodyBytes,
            stripe,
            logger: log,
            metrics,
            trustProxy: config.portal.trustProxy,
            ...(portalSecrets
              ? {
                  billingPage: {
                    db: pageDatabase(config, closers, database),
                    secrets: () => Promise.resolve(portalSecrets),
                    frameAncestors: config.portal.frameAncestors,
                    rateLimits: config.portal.rateLimits,
                    // Counted in the database whenever there is one, so every process (and Lambda) shares the limits.
                    limitStore: database || config.databaseUrl !== undefined ? 'database' : 'memory',
                    logger: log.child({ component: 'billing-page' }),
                  },
                }
              : {}),
          })
        : createStatusApp(status);
    const http = await listenOn(app, config);
    closers.push('http', () => http.close());
    const origin = `http://${config.host}:${http.port}`;
    if (secrets && queue) url = `${origin}${WEBHOOK_PATH}`;
    const billingPageUrl = portalSecrets && queue ? `${config.portal.baseUrl ?? origin}/billing/<token>` : undefined;
    const metricsUrl = `${origin}/metrics`;

    if (!options.quiet) {
      process.stdout.write(banner({ url, billingPageUrl, metricsUrl, metricsToken: config.metricsToken !== undefined, secrets, database, queue, mailTarget, roles }));
    }
    return { config, logger: log, url, billingPageUrl, metricsUrl, metrics, database, queue, stop: () => closers.closeAll(log) };
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
