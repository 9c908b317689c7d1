import { containerLambdaRuntime } from '../src/lambda/runtime';
import { webhookHandler } from '../src/lambda/webhook';

/** httpApi POST /webhooks/stripe (payload 2.0). */
export const handler = webhookHandler(containerLambdaRuntime());
