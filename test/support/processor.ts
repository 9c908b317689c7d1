import pino from 'pino';
import { start, type Running } from '../../src/run/start';
import { TEST_SECRET } from './stripe-events';

export interface ProcessorOptions {
  databaseUrl: string;
  queueUrl: string;
  dlqUrl: string;
  endpoint: string;
  roles?: Array<'webhook' | 'worker'>;
  env?: Record<string, string>;
  /** Default: silent, or TEST_LOG_LEVEL. */
  logger?: pino.Logger;
}

/** The real processor (express + sqs-consumer + sweep) in this process, on the test's services. */
export async function startProcessor(o: ProcessorOptions): Promise<Running & { baseUrl: string }> {
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: o.databaseUrl,
    SQS_QUEUE_URL: o.queueUrl,
    SQS_DLQ_URL: o.dlqUrl,
    AWS_ENDPOINT_URL_SQS: o.endpoint,
    AWS_REGION: 'us-east-1',
    STRIPE_WEBHOOK_SECRET: TEST_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    SQS_WAIT_TIME_SECONDS: '1',
    SQS_VISIBILITY_TIMEOUT_SECONDS: '2',
    DATABASE_POOL_SIZE: '10',
    ...o.env,
  };
  const running = await start(o.roles ?? ['webhook', 'worker'], env, { quiet: true, logger: o.logger ?? pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }) });
  const baseUrl = running.url ? new URL(running.url).origin : '';
  return { ...running, baseUrl };
}

export async function postWebhook(baseUrl: string, payload: string, header: string | undefined, extraHeaders: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header === undefined ? {} : { 'stripe-signature': header }), ...extraHeaders },
    body: payload,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}
