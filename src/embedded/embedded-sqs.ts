import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSqsServer } from 'local-aws-sqs';
import { startSqsServerThread } from './embedded-sqs-thread';

export interface EmbeddedSqs {
  endpoint: string;
  queueUrl: string;
  dlqUrl: string;
  stop(): Promise<void>;
}

export interface EmbeddedSqsOptions {
  queueName?: string;
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
  port?: number;
  /** Serve from a worker thread of this process instead of its main event loop (`npm start`). */
  inThread?: boolean;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

/**
 * An in-process SQS server with the same wiring as production: the queue (1 MiB messages)
 * redrives to a DLQ after `maxReceiveCount` receives.
 */
export async function startEmbeddedSqs(options: EmbeddedSqsOptions): Promise<EmbeddedSqs> {
  const name = options.queueName ?? 'stripe-billing-events';
  const dlqName = `${name}-dlq`;
  const serverOptions: Parameters<typeof createSqsServer>[0] = {
    port: options.port ?? 0,
    hostname: '127.0.0.1',
    region: REGION,
    accountId: ACCOUNT,
    emulateQueueCreationLifecycle: false,
    queues: [
      { QueueName: dlqName, Attributes: { MessageRetentionPeriod: '1209600' } },
      {
        QueueName: name,
        Attributes: {
          MaximumMessageSize: '1048576',
          VisibilityTimeout: options.visibilityTimeoutSeconds,
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${dlqName}`,
            maxReceiveCount: options.maxReceiveCount,
          }),
        },
      },
    ],
  };
  let port: number;
  let stop: () => Promise<void>;
  if (options.inThread) {
    ({ port, stop } = await startSqsServerThread(serverOptions as unknown as Record<string, unknown>));
  } else {
    const server: Server = await createSqsServer(serverOptions);
    port = (server.address() as AddressInfo).port;
    stop = () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    queueUrl: `${endpoint}/${ACCOUNT}/${name}`,
    dlqUrl: `${endpoint}/${ACCOUNT}/${dlqName}`,
    stop,
  };
}
