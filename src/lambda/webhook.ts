import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Config } from '../config';
import { EventQueue } from '../queue/event-queue';
import { handleWebhook } from '../ingest/webhook-handler';
import { secondsSince } from '../metrics/metrics';
import { createSqsClient } from '../queue/sqs-client';
import { createStripeClient } from '../stripe/api-client';
import type { LambdaRuntime } from './runtime';

/**
 * The exact bytes Stripe signed. HTTP APIs hand over bodies they consider binary base64-encoded;
 * anything but decoding them back (re-encoding the text, parsing the JSON) breaks the signature.
 */
export function rawBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/** HTTP APIs lower-case header names; a direct invocation may not, so the lookup ignores case. */
export function header(headers: APIGatewayProxyEventV2['headers'] | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

function json(statusCode: number, body: Record<string, unknown>): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}

function queueOf(rt: LambdaRuntime, config: Config): EventQueue {
  const queue = config.queue!;
  const key = `${config.awsRegion} ${config.sqsEndpoint ?? ''} ${queue.url}`;
  const sqs = rt.reuse(
    'sqs',
    key,
    () => createSqsClient({ region: config.awsRegion, endpoint: config.sqsEndpoint, maxSockets: 4 }),
    (client) => client.destroy(),
  );
  // Kept per container: the queue's MaximumMessageSize is asked once, and its sockets stay open.
  return rt.reuse('webhook-queue', key, () => new EventQueue(sqs, queue.url));
}

function stripeOf(rt: LambdaRuntime, config: Config) {
  const { secretKey, apiBase } = config.stripe;
  if (!secretKey) return undefined;
  return rt.reuse('stripe', `${secretKey} ${apiBase ?? ''}`, () => createStripeClient(config.stripe, 'thin events'));
}

/**
 * API Gateway HTTP API (payload 2.0) → the same decision and answers as the express endpoint:
 * 2xx only once the event is in the queue, 400 for anything unverified, 413, 503 while the queue is down.
 */
export function webhookHandler(rt: LambdaRuntime) {
  return async (event: APIGatewayProxyEventV2, context?: Pick<Context, 'awsRequestId'>): Promise<APIGatewayProxyStructuredResultV2> => {
    const receivedAt = process.hrtime.bigint();
    const config = await rt.config(['queue', 'webhookSecrets']);
    const logger = rt.logger(config).child({ requestId: context?.awsRequestId });
    return rt.measured(async (metrics) => {
      const raw = rawBody(event);
      if (raw.length > config.maxBodyBytes) {
        logger.warn({ outcome: 'rejected', reason: 'body too large', bytes: raw.length }, 'webhook rejected');
        metrics.webhook('too_large', secondsSince(receivedAt));
        return json(413, { error: `Body larger than ${config.maxBodyBytes} bytes` });
      }
      const answer = await handleWebhook(
        {
          queue: queueOf(rt, config),
          secrets: () => config.webhookSecrets,
          toleranceSeconds: config.toleranceSeconds,
          logger,
          stripe: stripeOf(rt, config),
          metrics,
        },
        raw,
        header(event.headers, 'stripe-signature'),
        receivedAt,
      );
      return json(answer.status, answer.body);
    });
  };
}
