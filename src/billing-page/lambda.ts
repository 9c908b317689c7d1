import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { header } from '../lambda/webhook';
import type { LambdaRuntime } from '../lambda/runtime';
import { billingPage, splitSegment, unavailable } from './respond';

const MISSING_SECRET = 'PORTAL_SIGNING_SECRET is not set: set it, or PORTAL_SIGNING_SECRET_PARAMETER (SSM) or PORTAL_SIGNING_SECRET_SECRET_ID';

/**
 * httpApi GET /billing/{token} (payload 2.0): the same answers as `npm start`'s route. The per-IP
 * and per-token limits of the express route live in one process's memory; here API Gateway's
 * route throttling (serverless.yml) bounds the requests instead.
 */
export function billingPageHandler(rt: LambdaRuntime) {
  return async (event: APIGatewayProxyEventV2, context?: Pick<Context, 'awsRequestId'>): Promise<APIGatewayProxyStructuredResultV2> => {
    const segment = event.pathParameters?.['token'] ?? '';
    const config = await rt.config(['database']);
    const logger = rt.logger(config).child({ requestId: context?.awsRequestId, component: 'billing-page' });
    const frameAncestors = config.portal.frameAncestors;
    const answer =
      config.portal.signingSecrets.length === 0
        ? (logger.error(MISSING_SECRET), unavailable(splitSegment(segment).json, frameAncestors))
        : await billingPage(
            {
              db: async () => (await rt.dataSource()).manager,
              secrets: () => Promise.resolve(config.portal.signingSecrets),
              frameAncestors,
              logger,
            },
            { segment, acceptLanguage: header(event.headers, 'accept-language'), limit: event.queryStringParameters?.['limit'] },
          );
    return { statusCode: answer.status, headers: answer.headers, body: answer.body };
  };
}
