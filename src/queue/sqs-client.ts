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

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

/** Keep-alive sockets: the webhook sends one message per request and must not pay a handshake each time. */
export function createSqsClient(options: SqsClientOptions): SQSClient {
  const maxSockets = options.maxSockets ?? 64;
  return new SQSClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    // A queue server on this machine checks no credentials; don't make a laptop configure AWS for it.
    ...(options.endpoint && isLoopback(options.endpoint) && !process.env['AWS_ACCESS_KEY_ID']
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 3000,
      requestTimeout: 10000,
      httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
    }),
  });
}
