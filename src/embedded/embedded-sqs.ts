import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSqsServer } from 'local-aws-sqs';

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
  const server: Server = await createSqsServer({
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
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    queueUrl: `${endpoint}/${ACCOUNT}/${name}`,
    dlqUrl: `${endpoint}/${ACCOUNT}/${dlqName}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
