import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueRole } from './metrics';

export interface QueueUrls {
  events: string;
  dlq: string;
}

/** ApproximateNumberOfMessages of the events queue and the DLQ, asked together. */
export async function queueDepths(sqs: SQSClient, urls: QueueUrls): Promise<Record<QueueRole, number>> {
  const depth = async (url: string) => {
    const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
    return Number(res.Attributes?.['ApproximateNumberOfMessages'] ?? 0);
  };
  const [events, dlq] = await Promise.all([depth(urls.events), depth(urls.dlq)]);
  return { events, dlq };
}
