import { consumerHandler } from '../src/lambda/consumer';
import { containerLambdaRuntime } from '../src/lambda/runtime';

/** SQS event source with ReportBatchItemFailures. */
export const handler = consumerHandler(containerLambdaRuntime());
