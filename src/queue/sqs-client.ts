import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import http from 'node:http';
import https from 'node:https';

export interface SqsClientOptions {
  region: string;
  /** The embedded server or AWS_ENDPOINT_URL_SQS; otherwise the SDK resolves the regional endpoint. */
  endpoint?: string;
  maxSockets?: number;
}

export interface ReceivingSqsClientOptions extends SqsClientOptions {
  /** SQS_RECEIVE_TIMEOUT_SECONDS: longer than any WaitTimeSeconds the client's receives ask for. */
  receiveTimeoutSeconds: number;
}

/**
 * How long a send may take before the SDK warns: the webhook answers Stripe only once its send
 * settled, so a send is expected to take milliseconds.
 */
const SEND_REQUEST_TIMEOUT_MS = 10_000;

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

function buildClient(options: SqsClientOptions, timeout: { requestTimeout: number; throwOnRequestTimeout: boolean }): SQSClient {
  const maxSockets = options.maxSockets ?? 64;
  return new SQSClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    // A queue server on this machine checks no credentials; don't make a laptop configure AWS for it.
    ...(options.endpoint && isLoopback(options.endpoint) && !process.env['AWS_ACCESS_KEY_ID']
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
    maxAttempts: 3,
    // The middleware stack is resolved once per command type instead of on every call: the same
    // few commands are sent thousands of times, and no middleware is added after the first send.
    cacheMiddleware: true,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 3000,
      ...timeout,
      httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
    }),
  });
}

/**
 * For sends and one-off calls (the webhook, the CLI). Keep-alive sockets: the webhook sends one
 * message per request and must not pay a handshake each time.
 */
export function createSqsClient(options: SqsClientOptions): SQSClient {
  return buildClient(options, { requestTimeout: SEND_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: false });
}

/**
 * For a consumer's long polls. The queue holds an idle receive open for its whole WaitTimeSeconds
 * and may hand it a message at any moment of that wait, so the client must wait longer: a receive
 * abandoned earlier would leave such a message hidden for the visibility timeout with a receive
 * counted toward the DLQ. A receive still unanswered after the timeout (a connection that died
 * silently) is abandoned and retried rather than holding its poller forever.
 */
export function createReceivingSqsClient(options: ReceivingSqsClientOptions): SQSClient {
  return buildClient(options, { requestTimeout: options.receiveTimeoutSeconds * 1000, throwOnRequestTimeout: true });
}
