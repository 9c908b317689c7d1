import { containerLambdaRuntime } from '../src/lambda/runtime';
import { sweepHandler } from '../src/lambda/sweep';

/** Schedule: overdue flags and time-based notices. */
export const handler = sweepHandler(containerLambdaRuntime());
