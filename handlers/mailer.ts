import { containerLambdaRuntime } from '../src/lambda/runtime';
import { mailerHandler } from '../src/lambda/mailer';

/** Schedule: sends the due notices of the outbox. */
export const handler = mailerHandler(containerLambdaRuntime());
