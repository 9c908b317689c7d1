import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Config } from '../config';
import { recordDeadLetter } from '../consume/dead-letter';
import { REPLAY_ATTRIBUTE } from '../queue/replay-attribute';
import { isRetryable } from '../errors';
import { pipelineOptions } from '../pipeline/options';
import { processBatch } from '../pipeline/process-batch';
import { errorText, objectIdField, type BatchOutcome, type ProcessOptions } from '../pipeline/types';
import { isLastReceive } from '../queue/redrive-policy';
import { createStripeClient } from '../stripe/api-client';
import { reportOutcomes } from '../metrics/event-outcomes';
import type { LambdaRuntime } from './runtime';

function processOptions(rt: LambdaRuntime, config: Config): ProcessOptions {
  const { secretKey, apiBase } = config.stripe;
  return rt.reuse('pipeline-options', `${secretKey ?? ''} ${apiBase ?? ''}`, () =>
    pipelineOptions(config, secretKey ? createStripeClient(config.stripe, 'fetching objects') : undefined, rt.logger(config)),
  );
}

/**
 * SQS event source → the records applied together, as the worker applies a receive
 * (processBatch: one transaction, and one per record only when that fails, so a poison record
 * fails alone). Powertools reports the records whose outcome failed as batchItemFailures, so
 * only those are received again (and reach the DLQ after maxReceiveCount); Lambda deletes the
 * committed ones. This code never calls SQS itself. If every record fails, Powertools throws
 * instead, which counts as a function error in the metrics and returns the whole batch, as
 * listing every id would.
 */
export function consumerHandler(rt: LambdaRuntime) {
  const processor = new BatchProcessor(EventType.SQS);
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const config = await rt.config(['database']);
    const logger = rt.logger(config).child({ requestId: context.awsRequestId });
    // Unreachable database: throw before touching any record, so the batch goes back as a whole.
    const ds = await rt.dataSource();
    const started = process.hrtime.bigint();
    const items = event.Records.map((r) => ({ body: r.body, force: r.messageAttributes?.[REPLAY_ATTRIBUTE]?.stringValue === 'force' }));
    const metrics = rt.metrics();
    // Started once; Powertools then asks each record for its own outcome. Counted as the worker
    // counts a receive, as soon as the batch's transactions are over.
    const outcomes: Promise<BatchOutcome[]> = processBatch(ds, items, {
      ...processOptions(rt, config),
      onBatchFallback: (err, size) => logger.warn({ err: errorText(err), batch: size }, 'batch transaction failed; processing its messages one by one'),
    }).then((o) => {
      reportOutcomes(metrics, o, Date.now() / 1000);
      return o;
    });
    const position = new Map(event.Records.map((r, i) => [r.messageId, i]));

    const handleRecord = async (record: SQSRecord): Promise<void> => {
      const outcome = (await outcomes)[position.get(record.messageId)!]!;
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1);
      if (outcome.ok) {
        const { eventId, type, object, objectId, outcome: applied } = outcome.result;
        logger.info({ messageId: record.messageId, eventId, type, [objectIdField(object)]: objectId, outcome: applied, receiveCount, durationMs, batch: items.length }, 'event processed');
        return;
      }
      const err = outcome.error;
      // The function never asks SQS: SQS_MAX_RECEIVE_COUNT is set to the queue's redrive policy.
      const deadLettered = isLastReceive(receiveCount, config.maxReceiveCount);
      logger.error({ messageId: record.messageId, outcome: isRetryable(err) ? 'failed' : 'malformed', receiveCount, deadLettered, err: errorText(err), durationMs }, 'event failed; left on the queue');
      if (deadLettered) {
        await recordDeadLetter(ds, record.messageId, record.body).catch((e: unknown) =>
          logger.warn({ messageId: record.messageId, err: errorText(e) }, 'could not record that the event was dead-lettered'),
        );
      }
      throw err;
    };

    return rt.measured(() => processPartialResponse(event, handleRecord, processor, { context }));
  };
}
