import { billingPageHandler } from '../src/billing-page/lambda';
import { containerLambdaRuntime } from '../src/lambda/runtime';

/** httpApi GET /billing/{token} (payload 2.0): its own function, in the VPC, since it reads the database. */
export const handler = billingPageHandler(containerLambdaRuntime());
