import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp, type AppDeps } from '../../src/ingest/app';
import { TEST_SECRET, sign } from '../support/stripe-events';

export const MIB = 1024 * 1024;
export const silentLogger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

/** A second, valid-looking signing secret: the "other side" of a roll. */
export const OTHER_SECRET = 'whsec_rolled_ZYXWVUTSRQPONMLKJIHGFEDCBA98765';

export interface RunningApp {
  baseUrl: string;
  close(): Promise<void>;
}

/** The real express app on an ephemeral port, so requests go through real HTTP parsing. */
export async function serveApp(deps: Partial<AppDeps> & Pick<AppDeps, 'queue'>): Promise<RunningApp> {
  const app = createApp({
    secrets: () => [TEST_SECRET],
    toleranceSeconds: 300,
    maxBodyBytes: 2 * MIB,
    logger: silentLogger,
    readiness: async () => undefined,
    ...deps,
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Answer {
  status: number;
  contentType: string | null;
  text: string;
  json: Record<string, unknown> | undefined;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), text, json };
}

export async function postWebhook(baseUrl: string, body: string, header: string | undefined): Promise<Answer> {
  const res = await fetch(`${baseUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header === undefined ? {} : { 'stripe-signature': header }) },
    body,
  });
  return answer(res);
}

export async function get(baseUrl: string, path: string): Promise<Answer> {
  return answer(await fetch(`${baseUrl}${path}`));
}

/**
 * A body streamed with chunked transfer encoding: no Content-Length, so the size limit can only be
 * enforced while reading.
 */
export function postChunked(baseUrl: string, chunks: Buffer[], header: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${baseUrl}/webhooks/stripe`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'stripe-signature': header } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
      },
    );
    // The server may answer 413 and close before the last chunk: that is the outcome under test.
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

/** The hex signature out of a `t=…,v1=…` header, to compose multi-signature headers by hand. */
export function v1Of(header: string): string {
  const part = header.split(',').find((p) => p.startsWith('v1='));
  if (!part) throw new Error(`no v1 in ${header}`);
  return part.slice(3);
}

export function signedAt(payload: string, timestamp: number, secret = TEST_SECRET): string {
  return sign(payload, secret, timestamp);
}

/** HMAC over an arbitrary signed-content string, for headers the SDK helper cannot produce. */
export function hmacHex(content: string, secret = TEST_SECRET): string {
  return createHmac('sha256', secret).update(content, 'utf8').digest('hex');
}

/**
 * Receives and deletes everything visible, so each test sees only its own messages and nothing
 * reappears after the visibility timeout to confuse a later test.
 */
export async function drain(client: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const res = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
    const messages = res.Messages ?? [];
    if (messages.length === 0) return bodies;
    for (const m of messages) {
      bodies.push(m.Body ?? '');
      await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

/** A port nothing listens on: bound, read, then released. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Every configured secret, and its random part, must stay out of anything a caller can read. */
export function expectNoSecretIn(text: string, secrets: readonly string[]): void {
  for (const s of secrets) {
    expect(text).not.toContain(s);
    expect(text).not.toContain(s.replace(/^whsec_/, ''));
  }
}

/** The shape every 4xx/5xx webhook answer must have: JSON with one non-empty `error` string. */
export function expectErrorBody(a: Answer, status: number): string {
  expect(a.status).toBe(status);
  expect(a.contentType ?? '').toMatch(/^application\/json/);
  expect(a.json).toBeDefined();
  expect(Object.keys(a.json ?? {})).toEqual(['error']);
  const error = a.json?.['error'];
  expect(typeof error).toBe('string');
  expect((error as string).length).toBeGreaterThan(0);
  return error as string;
}
