import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, Context, ScheduledEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { SecretStores } from '../../src/lambda/secret-env';

/** What API Gateway HTTP API (payload 2.0) hands the function for a Stripe delivery. */
export function httpApiEvent(body: Buffer | string, headers: Record<string, string>, o: { base64?: boolean } = {}): APIGatewayProxyEventV2 {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const now = new Date();
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/stripe',
    rawPath: '/webhooks/stripe',
    rawQueryString: '',
    headers: {
      accept: '*/*; q=0.5, application/xml',
      'cache-control': 'no-cache',
      'content-length': String(raw.length),
      'content-type': 'application/json; charset=utf-8',
      host: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      'x-amzn-trace-id': `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      'x-forwarded-for': '54.187.174.169',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      // API Gateway lower-cases header names.
      ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      domainName: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'a1b2c3d4e5',
      http: { method: 'POST', path: '/webhooks/stripe', protocol: 'HTTP/1.1', sourceIp: '54.187.174.169', userAgent: 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
      requestId: randomUUID(),
      routeKey: 'POST /webhooks/stripe',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: o.base64 ? raw.toString('base64') : raw.toString('utf8'),
    isBase64Encoded: o.base64 === true,
  };
}

/** An EventBridge schedule's event, as the sweep and mailer functions receive it. */
export function scheduledEvent(rule: string): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:events:us-east-1:123456789012:rule/${rule}`],
    detail: {},
  };
}

export function lambdaContext(functionName: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `stripe-billing-test-${functionName}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:stripe-billing-test-${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/stripe-billing-test-${functionName}`,
    logStreamName: `2026/11/23/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The record the SQS event source mapping builds from a received message. */
export function sqsRecord(m: Message, queueArn: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a['ApproximateReceiveCount'] ?? '1',
      SentTimestamp: a['SentTimestamp'] ?? String(Date.now()),
      SenderId: a['SenderId'] ?? 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: a['ApproximateFirstReceiveTimestamp'] ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(m.MessageAttributes ?? {}).map(([name, v]) => [
        name,
        { stringValue: v.StringValue, stringListValues: [], binaryListValues: [], dataType: v.DataType ?? 'String' },
      ]),
    ),
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

export function queueArnOf(queueUrl: string): string {
  return `arn:aws:sqs:us-east-1:000000000000:${queueUrl.slice(queueUrl.lastIndexOf('/') + 1)}`;
}

/** Receives up to `max` messages the way the event source mapping does (all attributes), waiting up to `waitMs` for the first. */
export async function receiveBatch(client: SQSClient, queueUrl: string, max = 10, waitMs = 10_000): Promise<SQSEvent> {
  const records: SQSRecord[] = [];
  const deadline = Date.now() + waitMs;
  do {
    const res = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - records.length),
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const got = res.Messages ?? [];
    records.push(...got.map((m) => sqsRecord(m, queueArnOf(queueUrl))));
    if (got.length === 0 && records.length > 0) break;
    if (got.length === 0) await new Promise((r) => setTimeout(r, 100));
  } while (records.length < max && Date.now() < deadline);
  return { Records: records };
}

/**
 * What the event source mapping does with the answer: deletes every record not listed in
 * batchItemFailures; the listed ones stay and become visible again after the visibility timeout.
 */
export async function settleLikeLambda(client: SQSClient, queueUrl: string, event: SQSEvent, answer: SQSBatchResponse): Promise<string[]> {
  const failed = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
  const done = event.Records.filter((r) => !failed.has(r.messageId));
  if (done.length > 0) {
    await client.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }),
    );
  }
  return done.map((r) => r.messageId);
}

/** For tests whose secrets all come from the environment: any read from AWS is a failure. */
export const noAwsStores: SecretStores = {
  parameter: async (name) => {
    throw new Error(`test read SSM parameter ${name}; secrets were expected from the environment`);
  },
  secret: async (id) => {
    throw new Error(`test read secret ${id}; secrets were expected from the environment`);
  },
};

/** pino's JSON lines, kept for assertions. */
export function captureLogs(): { destination: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { destination, lines, text };
}

/** Receives and deletes every visible message; returns their bodies in the order received. */
export async function takeAll(client: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const res = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const got = res.Messages ?? [];
    if (got.length === 0) return bodies;
    bodies.push(...got.map((m) => m.Body ?? ''));
    await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: got.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}
