import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MalformedEventError } from '../billing/snapshot';
import type { Config } from '../config';
import { recordDeadLetter } from '../consume/dead-letter';
import { noticeEffects, noticePolicy } from '../effects/notice-effects';
import { errorText, processMessage, type ProcessOptions } from '../consume/process-event';
import { REPLAY_ATTRIBUTE } from '../consume/replay-attribute';
import { isLastReceive } from '../queue/redrive-policy';
import { createStripeClient } from '../stripe/api-client';
import { invoiceFetcher } from '../stripe/fetch-invoice';
import type { LambdaRuntime } from './runtime';

function processOptions(rt: LambdaRuntime, config: Config): ProcessOptions {
  const { secretKey, apiBase } = config.stripe;
  const fetchInvoice = secretKey
    ? rt.reuse('invoice-fetcher', `${secretKey} ${apiBase ?? ''}`, () => invoiceFetcher(createStripeClient(config.stripe, 'thin events')))
    : undefined;
  return { afterMerge: noticeEffects(noticePolicy(config)), fetchInvoice };
}

/**
 * SQS event source → one transaction per record through the same processMessage as the poller.
 * Powertools reports the records that threw as batchItemFailures, so only those are received
 * again (and reach the DLQ after maxReceiveCount); the committed ones are deleted by Lambda. This
 * code never calls SQS itself. If every record fails, Powertools throws instead, which counts as a
 * function error in the metrics and returns the whole batch, as listing every id would.
 */
export function consumerHandler(rt: LambdaRuntime) {
  const processor = new BatchProcessor(EventType.SQS);
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const config = await rt.config(['database']);
    const logger = rt.logger(config).child({ requestId: context.awsRequestId });
    // Unreachable database: throw before touching any record, so the batch goes back as a whole.
    const ds = await rt.dataSource();
    const options = processOptions(rt, config);

    const handleRecord = async (record: SQSRecord): Promise<void> => {
      const started = process.hrtime.bigint();
      const durationMs = () => Number(process.hrtime.bigint() - started) / 1e6;
      const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1);
      try {
        const force = record.messageAttributes?.[REPLAY_ATTRIBUTE]?.stringValue === 'force';
        const r = await processMessage(ds, record.body, options, { force });
        logger.info({ messageId: record.messageId, eventId: r.eventId, type: r.type, invoiceId: r.invoiceId, outcome: r.outcome, receiveCount, durationMs: durationMs() }, 'event processed');
      } catch (err) {
        const outcome = err instanceof MalformedEventError ? 'malformed' : 'failed';
        // The function never asks SQS: SQS_MAX_RECEIVE_COUNT is set to the queue's redrive policy.
        const deadLettered = isLastReceive(receiveCount, config.maxReceiveCount);
        logger.error({ messageId: record.messageId, outcome, receiveCount, deadLettered, err: errorText(err), durationMs: durationMs() }, 'event failed; left on the queue');
        if (deadLettered) {
          await recordDeadLetter(ds, record.messageId, record.body).catch((e: unknown) =>
            logger.warn({ messageId: record.messageId, err: errorText(e) }, 'could not record that the event was dead-lettered'),
          );
        }
        throw err;
      }
    };

    return processPartialResponse(event, handleRecord, processor, { context });
  };
}
