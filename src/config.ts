import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { NOTICE_KINDS, type NoticeKind } from './billing/notice-kinds';
import { BillingError } from './errors';

/** Raised when the environment cannot be used; the message names the variable, never its value. */
export class ConfigError extends BillingError {
  override readonly name = 'ConfigError';
  readonly retryable = false;
  /** The CLI exits 2: the configuration, not a service, is what to fix. */
  override readonly exitCode = 2;
}

const MIB = 1024 * 1024;

/** A whole number in [min, max]. */
const wholeIn = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const intFrom = (min: number, fallback: number, max = Number.MAX_SAFE_INTEGER) => wholeIn(min, max).default(fallback);

/** Undefined when unset: the caller picks the default from context. */
const optionalIntIn = (min: number, max: number) => wholeIn(min, max).optional();

/** A switch: true, false, 1 or 0 (any case); unset gives the fallback. */
const flag = (fallback: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0'], { message: 'must be true, false, 1 or 0' }))
    .transform((v) => v === 'true' || v === '1')
    .default(fallback);

const optionalUrl = z
  .string()
  .trim()
  .url('must be a URL')
  .optional()
  .or(z.literal('').transform(() => undefined));

const webhookSecrets = z
  .string()
  .optional()
  .transform((raw) => (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0))
  .refine((secrets) => secrets.every((s) => /^whsec_[A-Za-z0-9+/=_-]+$/.test(s)), {
    message: 'each comma-separated secret must look like whsec_…',
  });

/**
 * PORTAL_SIGNING_SECRET: the key of the billing page's links, comma-separated while rolling (the
 * first signs, all verify). Long enough that a guess is hopeless; no spaces, since it is pasted.
 */
const portalSecrets = z
  .string()
  .optional()
  .transform((raw) => (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0))
  .refine((secrets) => secrets.every((s) => /^[\x21-\x7e]{32,512}$/.test(s) && !s.includes(',')), {
    message: 'each comma-separated secret must be 32 to 512 printable characters without spaces (e.g. `openssl rand -base64 32`)',
  });

/**
 * PORTAL_FRAME_ANCESTORS: who may embed the billing page, as CSP frame-ancestors sources: `none`
 * (the default), `self`, or a list of origins (https://app.example.com, https://*.example.com),
 * separated by commas or spaces.
 */
const frameAncestors = z
  .string()
  .optional()
  .transform((raw, ctx): string[] => {
    const parts = (raw ?? '').split(/[\s,]+/).map((p) => p.trim()).filter(Boolean);
    if (parts.length === 0) return ["'none'"];
    const sources = parts.map((p) => {
      const bare = p.replace(/^'(none|self)'$/, '$1');
      if (bare === 'none' || bare === 'self') return `'${bare}'`;
      return /^https?:\/\/(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:(\d{1,5}|\*))?\/?$/.test(p) ? p.replace(/\/$/, '') : null;
    });
    if (sources.includes(null) || (sources.includes("'none'") && sources.length > 1)) {
      ctx.addIssue({ code: 'custom', message: 'expected none, self, or origins like https://app.example.com (https://*.example.com for subdomains), separated by commas or spaces' });
      return z.NEVER;
    }
    return sources as string[];
  });

/**
 * TRUST_PROXY: which proxies in front of the process may say who the client is (X-Forwarded-For),
 * as express's `trust proxy`: a number of hops (1 for one load balancer), or a comma-separated
 * list of addresses, CIDR ranges and express's names (loopback, linklocal, uniquelocal). Unset,
 * no one: the client is the connection's address. `true` (trust anyone) is refused, since any
 * client could then pick the address the billing page's rate limit counts.
 */
const trustProxy = z
  .string()
  .optional()
  .transform((raw, ctx): number | string[] | false => {
    const text = (raw ?? '').trim();
    if (text === '') return false;
    if (/^\d{1,2}$/.test(text) && Number(text) >= 1 && Number(text) <= 10) return Number(text);
    const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
    const named = new Set(['loopback', 'linklocal', 'uniquelocal']);
    const ok = (p: string) => {
      if (named.has(p)) return true;
      const [address, bits, extra] = p.split('/');
      const family = isIP(address ?? '');
      if (family === 0 || extra !== undefined) return false;
      return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
    };
    if (parts.length === 0 || !parts.every(ok)) {
      ctx.addIssue({ code: 'custom', message: 'expected a number of proxy hops (1 to 10), or addresses and CIDR ranges (10.0.0.0/8, loopback, uniquelocal) separated by commas' });
      return z.NEVER;
    }
    return parts;
  });

/** NOTICE_KINDS: "all" (the default), "none", or a comma-separated list of kinds. */
const noticeKinds = z
  .string()
  .optional()
  .transform((raw, ctx): NoticeKind[] => {
    const value = (raw ?? 'all').trim();
    if (value === '' || value === 'all') return [...NOTICE_KINDS];
    if (value === 'none') return [];
    const kinds = value.split(',').map((k) => k.trim()).filter(Boolean);
    const unknown = kinds.filter((k) => !(NOTICE_KINDS as readonly string[]).includes(k));
    if (unknown.length > 0) {
      ctx.addIssue({ code: 'custom', message: `unknown kind ${unknown.join(', ')}; use all, none, or some of: ${NOTICE_KINDS.join(', ')}` });
      return z.NEVER;
    }
    return kinds as NoticeKind[];
  });

/**
 * NOTICE_ACCOUNTS: whose invoices get emails: "all" (the default), "platform" (the platform's own
 * only), or a comma-separated list of "platform" and connected accounts (acct_…).
 */
const noticeAccounts = z
  .string()
  .optional()
  .transform((raw, ctx): 'all' | ReadonlySet<string> => {
    const value = (raw ?? 'all').trim();
    if (value === '' || value === 'all') return 'all';
    const accounts = value.split(',').map((a) => a.trim()).filter(Boolean);
    const bad = accounts.filter((a) => a !== 'platform' && !/^acct_[A-Za-z0-9]+$/.test(a));
    if (bad.length > 0 || accounts.length === 0) {
      ctx.addIssue({ code: 'custom', message: `expected all, or a comma-separated list of platform and acct_… ids; ${bad.length > 0 ? `not ${bad.join(', ')}` : 'got none'}` });
      return z.NEVER;
    }
    return new Set(accounts);
  });

const schema = z
  .object({
    HOST: z.string().trim().min(1).default('127.0.0.1'),
    PORT: intFrom(0, 4242, 65535),
    DATA_DIR: z.string().trim().min(1).default('./.data'),
    DATABASE_URL: optionalUrl.refine((u) => u === undefined || /^postgres(ql)?:\/\//.test(u), {
      message: 'must be a postgres:// or postgresql:// URL',
    }),
    DATABASE_POOL_SIZE: intFrom(1, 10, 200),
    DATABASE_PREPARED_STATEMENTS: flag(true),
    SQS_QUEUE_URL: optionalUrl,
    SQS_DLQ_URL: optionalUrl,
    AWS_REGION: z.string().trim().min(1).default('us-east-1'),
    AWS_ENDPOINT_URL_SQS: optionalUrl,
    SQS_MAX_RECEIVE_COUNT: intFrom(1, 5, 1000),
    SQS_WAIT_TIME_SECONDS: intFrom(0, 20, 20),
    SQS_RECEIVE_TIMEOUT_SECONDS: intFrom(1, 30, 900),
    SQS_VISIBILITY_TIMEOUT_SECONDS: intFrom(1, 30, 43200),
    WORKER_POLLERS: optionalIntIn(1, 64),
    WORKER_TRANSACTIONS: intFrom(1, 1, 64),
    // V8 itself keeps to at least 10 % and at most 300 %.
    HEAP_GROWTH_PERCENT: wholeIn(0, 300)
      .refine((n) => n === 0 || n >= 10, 'must be 0 (V8 chooses) or from 10 to 300')
      .default(100),
    STRIPE_WEBHOOK_SECRET: webhookSecrets,
    STRIPE_WEBHOOK_TOLERANCE_SECONDS: intFrom(1, 300, 86400),
    WEBHOOK_MAX_BODY_BYTES: intFrom(1024, 2 * MIB, 64 * MIB),
    OVERDUE_SWEEP_INTERVAL_SECONDS: intFrom(1, 300, 86400),
    EVENT_PAYLOAD_RETENTION_DAYS: z
      .string()
      .trim()
      .optional()
      .transform((v) => (v === '' ? undefined : v))
      .pipe(
        z
          .string()
          .regex(/^\d+$/, 'must be a whole number of days (unset: payloads are kept)')
          .transform(Number)
          .pipe(z.number().int().min(1, 'must be at least 1').max(36500, 'must be at most 36500'))
          .optional(),
      ),
    SMTP_URL: optionalUrl.refine((u) => u === undefined || /^smtps?:\/\//.test(u), { message: 'must be an smtp:// or smtps:// URL' }),
    MAIL_FROM: z.string().trim().min(3).optional(),
    MAIL_RETRY_MAX_BACKOFF_SECONDS: intFrom(1, 300, 86400),
    MAIL_MAX_ATTEMPTS: intFrom(1, 10, 100),
    MAILER_CONCURRENCY: intFrom(1, 4, 64),
    MAIL_POLL_INTERVAL_MS: intFrom(50, 1000, 60000),
    NOTICE_KINDS: noticeKinds,
    NOTICE_MAX_EVENT_AGE_HOURS: intFrom(1, 72, 24 * 366),
    NOTICE_ACCOUNTS: noticeAccounts,
    RECEIPT_WAIT_SECONDS: intFrom(0, 120, 3600),
    STRIPE_SECRET_KEY: z
      .string()
      .trim()
      .optional()
      .transform((v) => (v === '' ? undefined : v))
      .refine((v) => v === undefined || /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/.test(v), {
        message: 'must be a Stripe secret or restricted key (sk_… or rk_…)',
      }),
    STRIPE_API_BASE: optionalUrl.refine((u) => u === undefined || /^https?:\/\//.test(u), { message: 'must be an http(s) URL' }),
    METRICS_TOKEN: z
      .string()
      .trim()
      .optional()
      .transform((v) => (v === '' ? undefined : v))
      .refine((v) => v === undefined || (v.length >= 16 && /^[A-Za-z0-9._~+/-]+=*$/.test(v)), {
        message: 'must be at least 16 characters of A-Z a-z 0-9 . _ ~ + / - (a bearer token, e.g. from `openssl rand -hex 32`)',
      }),
    TRUST_PROXY: trustProxy,
    PORTAL_SIGNING_SECRET: portalSecrets,
    PORTAL_FRAME_ANCESTORS: frameAncestors,
    PORTAL_BASE_URL: optionalUrl.refine((u) => u === undefined || /^https?:\/\//.test(u), { message: 'must be an http(s) URL' }),
    PORTAL_RATE_LIMIT_WINDOW_SECONDS: intFrom(1, 60, 3600),
    PORTAL_RATE_LIMIT_PER_IP: intFrom(1, 120, 1_000_000),
    PORTAL_RATE_LIMIT_PER_TOKEN: intFrom(1, 30, 1_000_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((c) => c.SMTP_URL === undefined || c.MAIL_FROM !== undefined, {
    message: 'set MAIL_FROM (for example "Billing <billing@example.com>") when SMTP_URL is set',
    path: ['MAIL_FROM'],
  })
  // A queue holds an idle long poll open for the whole wait: a receive given up before that is
  // retried for nothing, and a message the queue hands to it stays hidden and counts a receive.
  .refine((c) => c.SQS_RECEIVE_TIMEOUT_SECONDS > c.SQS_WAIT_TIME_SECONDS, {
    message: 'must be longer than SQS_WAIT_TIME_SECONDS (the long poll), or receives are cut before the queue answers',
    path: ['SQS_RECEIVE_TIMEOUT_SECONDS'],
  })
  .refine((c) => (c.SQS_QUEUE_URL === undefined) === (c.SQS_DLQ_URL === undefined), {
    message: 'set both SQS_QUEUE_URL and SQS_DLQ_URL, or neither (to use the embedded queue)',
    path: ['SQS_QUEUE_URL'],
  });

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Undefined means: start embedded PostgreSQL under dataDir. */
  databaseUrl?: string;
  databasePoolSize: number;
  /**
   * False sends every statement unnamed, so nothing stays prepared on a connection: RDS Proxy pins
   * a client to its connection once that connection holds a named prepared statement.
   */
  databasePreparedStatements: boolean;
  /** Undefined means: start the embedded SQS server with a queue and a DLQ. */
  queue?: { url: string; dlqUrl: string };
  awsRegion: string;
  /** AWS_ENDPOINT_URL_SQS, read here so that every process is explicit about where its queue lives. */
  sqsEndpoint?: string;
  maxReceiveCount: number;
  waitTimeSeconds: number;
  /** How long the worker's receive calls wait for an answer; longer than waitTimeSeconds. */
  receiveTimeoutSeconds: number;
  visibilityTimeoutSeconds: number;
  /** Unset: the worker picks by queue (workerPollers in src/consume/pollers.ts). */
  workerPollers: number | undefined;
  /** Pipeline transactions the worker runs at once; receives that arrive meanwhile share the next. */
  workerTransactions: number;
  /** HEAP_GROWTH_PERCENT: how far a long-running process's old generation grows between full collections (src/run/heap-growth.ts); 0 leaves V8's choice. */
  heapGrowthPercent: number;
  /** Empty means: use (or generate) the secret kept under dataDir. */
  webhookSecrets: string[];
  toleranceSeconds: number;
  maxBodyBytes: number;
  sweepIntervalSeconds: number;
  /**
   * EVENT_PAYLOAD_RETENTION_DAYS: the sweep removes the payloads of events processed longer ago
   * (as `billing events prune` does); undefined: payloads are kept.
   */
  eventPayloadRetentionDays?: number;
  mail: MailConfig;
  stripe: StripeApiConfig;
  portal: PortalConfig;
  /** METRICS_TOKEN: when set, GET /metrics wants `Authorization: Bearer <token>`; never logged or printed. */
  metricsToken?: string;
  logLevel: string;
}

/** The customer's billing page (GET /billing/<token>) and its links (`billing portal-url`). */
export interface PortalConfig {
  /** Empty means: use (or generate) the secret kept under dataDir; never logged or printed. */
  signingSecrets: string[];
  /** CSP frame-ancestors sources; ["'none'"] unless PORTAL_FRAME_ANCESTORS says otherwise. */
  frameAncestors: string[];
  /** Where links point (`portal-url` without --base-url); undefined: http://HOST:PORT. */
  baseUrl?: string;
  rateLimits: { windowSeconds: number; perIp: number; perToken: number };
  /** TRUST_PROXY as express's `trust proxy`: who may name the client (its address counts for the per-address limit). */
  trustProxy: number | string[] | false;
}

export interface StripeApiConfig {
  /** Needed for thin events, backfill and reconcile; never logged or printed. */
  secretKey?: string;
  /** Another API server (stripe-mock, a test double); default api.stripe.com. */
  apiBase?: string;
}

export interface MailConfig {
  /** Undefined means: write each message as an .eml file under DATA_DIR/mail. */
  smtpUrl?: string;
  from: string;
  maxBackoffSeconds: number;
  maxAttempts: number;
  concurrency: number;
  pollIntervalMs: number;
  enabledKinds: ReadonlySet<NoticeKind>;
  /**
   * NOTICE_MAX_EVENT_AGE_HOURS in seconds: a notice about something that happened longer ago than
   * this (Stripe's 72-hour retry window by default) is recorded as skipped (`stale`), not sent.
   */
  noticeMaxAgeSeconds: number;
  /** NOTICE_ACCOUNTS: whose invoices get emails; a set of `platform` and `acct_…` ids, or all. */
  noticeAccounts: 'all' | ReadonlySet<string>;
  /**
   * RECEIPT_WAIT_SECONDS: how long after it was queued a receipt (invoice_paid) waits for the
   * charge that paid the invoice, whose receipt link it then carries; 0 sends it at once.
   */
  receiptWaitSeconds: number;
}

/** Parses the environment once; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    host: e.HOST,
    port: e.PORT,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databasePreparedStatements: e.DATABASE_PREPARED_STATEMENTS,
    queue: e.SQS_QUEUE_URL && e.SQS_DLQ_URL ? { url: e.SQS_QUEUE_URL, dlqUrl: e.SQS_DLQ_URL } : undefined,
    awsRegion: e.AWS_REGION,
    sqsEndpoint: e.AWS_ENDPOINT_URL_SQS,
    maxReceiveCount: e.SQS_MAX_RECEIVE_COUNT,
    waitTimeSeconds: e.SQS_WAIT_TIME_SECONDS,
    receiveTimeoutSeconds: e.SQS_RECEIVE_TIMEOUT_SECONDS,
    visibilityTimeoutSeconds: e.SQS_VISIBILITY_TIMEOUT_SECONDS,
    workerPollers: e.WORKER_POLLERS,
    workerTransactions: e.WORKER_TRANSACTIONS,
    heapGrowthPercent: e.HEAP_GROWTH_PERCENT,
    webhookSecrets: e.STRIPE_WEBHOOK_SECRET,
    toleranceSeconds: e.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
    maxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
    sweepIntervalSeconds: e.OVERDUE_SWEEP_INTERVAL_SECONDS,
    eventPayloadRetentionDays: e.EVENT_PAYLOAD_RETENTION_DAYS,
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM ?? 'Billing <billing@localhost.localdomain>',
      maxBackoffSeconds: e.MAIL_RETRY_MAX_BACKOFF_SECONDS,
      maxAttempts: e.MAIL_MAX_ATTEMPTS,
      concurrency: e.MAILER_CONCURRENCY,
      pollIntervalMs: e.MAIL_POLL_INTERVAL_MS,
      enabledKinds: new Set(e.NOTICE_KINDS),
      noticeMaxAgeSeconds: e.NOTICE_MAX_EVENT_AGE_HOURS * 3600,
      noticeAccounts: e.NOTICE_ACCOUNTS,
      receiptWaitSeconds: e.RECEIPT_WAIT_SECONDS,
    },
    stripe: { secretKey: e.STRIPE_SECRET_KEY, apiBase: e.STRIPE_API_BASE },
    portal: {
      signingSecrets: e.PORTAL_SIGNING_SECRET,
      frameAncestors: e.PORTAL_FRAME_ANCESTORS,
      baseUrl: e.PORTAL_BASE_URL?.replace(/\/+$/, ''),
      rateLimits: {
        windowSeconds: e.PORTAL_RATE_LIMIT_WINDOW_SECONDS,
        perIp: e.PORTAL_RATE_LIMIT_PER_IP,
        perToken: e.PORTAL_RATE_LIMIT_PER_TOKEN,
      },
      trustProxy: e.TRUST_PROXY,
    },
    metricsToken: e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL,
  };
}
