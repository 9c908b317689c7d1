import pino, { type DestinationStream, type Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { ConfigError, loadConfig, type Config } from '../config';
import { createDataSource } from '../db/data-source';
import { createLogger } from '../log';
import { LambdaMetrics } from '../metrics/lambda-metrics';
import { powertoolsStores, resolveSecretEnv, type SecretStores } from './secret-env';

/** What a function cannot work without; checked on every invocation, named in the error. */
export type Requirement = 'database' | 'queue' | 'webhookSecrets' | 'smtp';

const MISSING: Record<Requirement, string> = {
  database: 'DATABASE_URL is not set: set it, or DATABASE_URL_PARAMETER (SSM) or DATABASE_URL_SECRET_ID (Secrets Manager, with DATABASE_HOST)',
  queue: 'SQS_QUEUE_URL and SQS_DLQ_URL are not set',
  webhookSecrets: 'STRIPE_WEBHOOK_SECRET is not set: set it, or STRIPE_WEBHOOK_SECRET_PARAMETER (SSM) or STRIPE_WEBHOOK_SECRET_SECRET_ID',
  // `npm start` falls back to .eml files; a Lambda's disk is gone with the container, so that would lose mail.
  smtp: 'SMTP_URL is not set: set it, or SMTP_URL_PARAMETER (SSM) or SMTP_URL_SECRET_ID; a Lambda cannot keep .eml files',
};

function satisfied(config: Config, need: Requirement): boolean {
  switch (need) {
    case 'database':
      return config.databaseUrl !== undefined;
    case 'queue':
      return config.queue !== undefined;
    case 'webhookSecrets':
      return config.webhookSecrets.length > 0;
    case 'smtp':
      return config.mail.smtpUrl !== undefined;
  }
}

export interface LambdaRuntimeOptions {
  /** Read at each (re)load, not at import; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: SSM Parameter Store and Secrets Manager through Powertools. */
  stores?: SecretStores;
  /** Default: stdout, written synchronously. */
  logDestination?: DestinationStream;
  nowMs?: () => number;
}

// RDS Proxy multiplexes many containers onto few database connections, and a container runs one
// invocation at a time: two connections let a batch overlap its transactions without hoarding.
const LAMBDA_POOL_SIZE = 2;
const DEFAULT_SECRETS_MAX_AGE_SECONDS = 300;

const isSet = (v: string | undefined) => v !== undefined && v.trim() !== '';

function secretsMaxAgeSeconds(env: NodeJS.ProcessEnv): number {
  const raw = env['SECRETS_MAX_AGE_SECONDS'];
  if (!isSet(raw)) return DEFAULT_SECRETS_MAX_AGE_SECONDS;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError('SECRETS_MAX_AGE_SECONDS: must be a whole number of seconds');
  return n;
}

interface Reused {
  key: string;
  value: unknown;
  dispose: () => void | Promise<void>;
}

const quietly = async (dispose: () => void | Promise<void>) => {
  try {
    await dispose();
  } catch {
    // Already broken or closed: nothing left to release.
  }
};

/**
 * What a Lambda container keeps between invocations: the configuration with its secrets (read
 * again after SECRETS_MAX_AGE_SECONDS so rotations arrive without a deploy), one logger, one
 * DataSource and the clients built from the configuration. Migrations never run here; they are a
 * deploy step.
 */
export class LambdaRuntime {
  private readonly env: NodeJS.ProcessEnv;
  private readonly stores: SecretStores;
  private readonly maxAgeMs: number;
  private readonly nowMs: () => number;
  private current: { config: Config; loadedAt: number } | undefined;
  private loading: Promise<Config> | undefined;
  private log: Logger | undefined;
  private emf: LambdaMetrics | undefined;
  private database: { url: string; ready: Promise<DataSource> } | undefined;
  private readonly reused = new Map<string, Reused>();

  constructor(private readonly o: LambdaRuntimeOptions = {}) {
    this.env = o.env ?? process.env;
    const maxAge = secretsMaxAgeSeconds(this.env);
    this.maxAgeMs = maxAge * 1000;
    this.stores = o.stores ?? powertoolsStores({ maxAgeSeconds: maxAge });
    this.nowMs = o.nowMs ?? Date.now;
  }

  /** The configuration, failing with a ConfigError that names what is missing for this function. */
  async config(needs: readonly Requirement[] = []): Promise<Config> {
    const config = await this.fresh();
    const missing = needs.filter((need) => !satisfied(config, need));
    if (missing.length > 0) throw new ConfigError(`invalid configuration:\n  ${missing.map((m) => MISSING[m]).join('\n  ')}`);
    return config;
  }

  private async fresh(): Promise<Config> {
    const now = this.nowMs();
    if (this.current && now - this.current.loadedAt < this.maxAgeMs) return this.current.config;
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    try {
      const config = await this.loading;
      this.current = { config, loadedAt: now };
      return config;
    } catch (err) {
      if (!this.current) throw err;
      // A store that cannot answer a refresh must not take a working function down: keep the
      // values read before and try again after another max age.
      this.logger(this.current.config).warn({ err: (err as Error).message }, 'reading secrets again failed; keeping the previous values');
      this.current.loadedAt = now;
      return this.current.config;
    }
  }

  private async load(): Promise<Config> {
    return loadConfig(await resolveSecretEnv(this.env, this.stores));
  }

  /** One logger per container. Synchronous writes: a frozen container must not hold log lines back. */
  logger(config: Config): Logger {
    this.log ??= createLogger(config.logLevel, this.o.logDestination ?? pino.destination({ dest: 1, sync: true }));
    return this.log;
  }

  /** The container's metrics (CloudWatch EMF); POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME rename them. */
  metrics(): LambdaMetrics {
    this.emf ??= new LambdaMetrics({ namespace: this.env['POWERTOOLS_METRICS_NAMESPACE']?.trim(), service: this.env['POWERTOOLS_SERVICE_NAME']?.trim() });
    return this.emf;
  }

  /**
   * Runs one invocation with the container's metrics and writes them at its end, whether it
   * returned or threw (a failed batch's outcomes count too).
   */
  async measured<T>(invocation: (metrics: LambdaMetrics) => Promise<T>): Promise<T> {
    const metrics = this.metrics();
    try {
      return await invocation(metrics);
    } finally {
      metrics.flush();
    }
  }

  /** The container's DataSource, connected on first use; a new DATABASE_URL (a rotated password) replaces it. */
  async dataSource(): Promise<DataSource> {
    const config = await this.config(['database']);
    const url = config.databaseUrl!;
    if (this.database?.url !== url) {
      const previous = this.database;
      this.database = { url, ready: this.connect(url, this.poolSize(config), config.databasePreparedStatements) };
      if (previous) void previous.ready.then((ds) => ds.destroy()).catch(() => undefined);
    }
    return this.database.ready;
  }

  private connect(url: string, poolSize: number, preparedStatements: boolean): Promise<DataSource> {
    const ds = createDataSource({ url, poolSize, preparedStatements, applicationName: 'stripe-billing-lambda' });
    const ready = ds.initialize().catch(async (err: Error) => {
      // Forget the failed attempt so the next invocation connects afresh instead of failing for good.
      if (this.database?.ready === ready) this.database = undefined;
      await ds.destroy().catch(() => undefined);
      throw new Error(`cannot connect to the database: ${err.message}`);
    });
    return ready;
  }

  private poolSize(config: Config): number {
    return isSet(this.env['DATABASE_POOL_SIZE']) ? config.databasePoolSize : LAMBDA_POOL_SIZE;
  }

  /**
   * A client or helper built once per container and kept while `key` (derived from the
   * configuration it was built from) stays the same; a changed key disposes the old one.
   */
  reuse<T>(name: string, key: string, create: () => T, dispose?: (value: T) => void | Promise<void>): T {
    const held = this.reused.get(name);
    if (held && held.key === key) return held.value as T;
    if (held) void quietly(held.dispose);
    const value = create();
    this.reused.set(name, { key, value, dispose: () => dispose?.(value) });
    return value;
  }

  /** Lets go of connections and clients; Lambda never calls it, tests and one-off scripts do. */
  async close(): Promise<void> {
    const held = [...this.reused.values()];
    this.reused.clear();
    for (const r of held) await quietly(r.dispose);
    const database = this.database;
    this.database = undefined;
    if (database) await database.ready.then((ds) => ds.destroy()).catch(() => undefined);
    this.log?.flush();
  }
}

let containerRuntime: LambdaRuntime | undefined;

/** The runtime of this container, shared by whichever handler the container runs. */
export function containerLambdaRuntime(): LambdaRuntime {
  containerRuntime ??= new LambdaRuntime();
  return containerRuntime;
}
