import { migrateHandler } from '../src/lambda/migrate';
import { containerLambdaRuntime } from '../src/lambda/runtime';

/** Invoked once per deploy (`serverless invoke -f migrate`), never on a cold start of the others. */
export const handler = migrateHandler(containerLambdaRuntime());
