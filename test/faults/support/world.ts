import fs from 'node:fs';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestSqs, type TestSqs } from '../../support/sqs';
import { TcpProxy, viaProxy } from '../../support/tcp-proxy';
import { freePort } from '../../../src/embedded/embedded-postgres';
import { startMailServer, type MailServer } from './mail-server';
import { runDir, secrets } from './run';

export const SMTP_USER = 'billing-relay';
export const MAIL_FROM = 'Acme Billing <billing@acme.test>';

/**
 * One scenario's services: its own database, a real SQS server with a DLQ, an SMTP server that
 * wants a password, each reachable only through a fault proxy, as the product will see them.
 */
export interface FaultWorld {
  db: TestDatabase;
  sqs: TestSqs;
  mail: MailServer;
  dbProxy: TcpProxy;
  sqsProxy: TcpProxy;
  smtpProxy: TcpProxy;
  /** The environment of a `billing` child: every service through its proxy, this run's secrets. */
  env(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export interface WorldOptions {
  maxReceiveCount?: number;
  visibilityTimeoutSeconds?: number;
  poolSize?: number;
}

const portOf = (url: string) => Number(new URL(url).port);

async function proxyTo(url: string): Promise<TcpProxy> {
  const p = new TcpProxy('127.0.0.1', portOf(url));
  await p.start();
  return p;
}

export async function startFaultWorld(o: WorldOptions = {}): Promise<FaultWorld> {
  const db = await createTestDatabase(o.poolSize ?? 5);
  const sqs = await startTestSqs({ maxReceiveCount: o.maxReceiveCount ?? 5, visibilityTimeoutSeconds: o.visibilityTimeoutSeconds ?? 5 });
  const mail = await startMailServer(SMTP_USER, secrets().smtpPassword);
  const dbProxy = await proxyTo(db.url);
  const sqsProxy = await proxyTo(sqs.endpoint);
  const smtpProxy = await proxyTo(mail.url);
  const dataDir = fs.mkdtempSync(path.join(runDir(), 'data-'));
  return {
    db,
    sqs,
    mail,
    dbProxy,
    sqsProxy,
    smtpProxy,
    env: (extra = {}) => ({
      DATABASE_URL: viaProxy(db.url, dbProxy.port),
      SQS_QUEUE_URL: viaProxy(sqs.queueUrl, sqsProxy.port),
      SQS_DLQ_URL: viaProxy(sqs.dlqUrl, sqsProxy.port),
      AWS_ENDPOINT_URL_SQS: viaProxy(sqs.endpoint, sqsProxy.port),
      SMTP_URL: viaProxy(mail.url, smtpProxy.port),
      ...baseEnv(dataDir),
      SQS_VISIBILITY_TIMEOUT_SECONDS: String(o.visibilityTimeoutSeconds ?? 5),
      ...extra,
    }),
    close: async () => {
      for (const p of [dbProxy, sqsProxy, smtpProxy]) await p.stop();
      await mail.close();
      await sqs.stop();
      await db.drop();
    },
  };
}

/** What every `billing` child of the suite shares: this run's secrets and quick local timings. */
export function baseEnv(dataDir: string): Record<string, string> {
  const s = secrets();
  return {
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    STRIPE_WEBHOOK_SECRET: s.webhook,
    STRIPE_SECRET_KEY: s.stripeKey,
    MAIL_FROM,
    SQS_WAIT_TIME_SECONDS: '1',
    MAIL_POLL_INTERVAL_MS: '200',
    MAIL_RETRY_MAX_BACKOFF_SECONDS: '2',
    LOG_LEVEL: 'info',
  };
}

/** A port for a webhook that must come back on the same address after a restart. */
export const webhookPort = () => freePort();
