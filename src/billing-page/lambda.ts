import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import express, { type Express } from 'express';
import pino, { type Logger } from 'pino';
import serverless from 'serverless-http';
import type { Config } from '../config';
import { createLogger } from '../log';
import type { LambdaRuntime } from '../lambda/runtime';
import { unavailable } from './respond';
import { billingPageRouter } from './routes';

const MISSING_SECRET = 'PORTAL_SIGNING_SECRET is not set: set it, or PORTAL_SIGNING_SECRET_PARAMETER (SSM) or PORTAL_SIGNING_SECRET_SECRET_ID';

type Invoke = (event: APIGatewayProxyEventV2, context: Pick<Context, 'awsRequestId'>) => Promise<APIGatewayProxyStructuredResultV2>;

const asHandler = (app: Express): Invoke => {
  // Text only: the page and its JSON never need API Gateway's base64 bodies.
  const handle = serverless(app, { binary: false });
  return async (event, context) => (await handle(event, context)) as APIGatewayProxyStructuredResultV2;
};

const bareApp = (): Express => {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  return app;
};

/**
 * The express router `npm start` serves, with its limits counted in the database so that every
 * instance of the function shares them. Secrets and the database are read per request through the
 * runtime (rotations arrive without a new app); a missing one answers the page's 503.
 */
function pageApp(rt: LambdaRuntime, config: Config): Invoke {
  const app = bareApp();
  // The client's address is the socket's, which serverless-http sets to API Gateway's sourceIp; the
  // X-Forwarded-For a client can write is never trusted. Said as a function rather than `false`, so
  // express-rate-limit does not report that header as a misconfiguration on every container.
  app.set('trust proxy', () => false);
  app.use(
    billingPageRouter({
      db: async () => (await rt.dataSource()).manager,
      secrets: async () => {
        const secrets = (await rt.config()).portal.signingSecrets;
        if (secrets.length === 0) throw new Error(MISSING_SECRET);
        return secrets;
      },
      frameAncestors: config.portal.frameAncestors,
      rateLimits: config.portal.rateLimits,
      logger: rt.logger(config).child({ component: 'billing-page' }),
    }),
  );
  return asHandler(app);
}

/** Every request the page's 503, headers and all: the configuration could not be read. */
function unavailableApp(): Invoke {
  const app = bareApp();
  app.use((req, res) => {
    const answer = unavailable(req.path.endsWith('.json'), []);
    res.status(answer.status).set(answer.headers).send(answer.body);
  });
  return asHandler(app);
}

let fallbackLogger: Logger | undefined;
const configLogger = () => (fallbackLogger ??= createLogger('info', pino.destination({ dest: 1, sync: true })));

/**
 * httpApi GET /billing/{token} (payload 2.0) through the same express router as `npm start`
 * (serverless-http; the client address is the request's sourceIp). The app is built once per
 * container and again when the settings it is built from change.
 */
export function billingPageHandler(rt: LambdaRuntime): Invoke {
  return async (event, context) => {
    let config: Config;
    try {
      config = await rt.config();
    } catch (err) {
      configLogger().error({ requestId: context?.awsRequestId, component: 'billing-page', err: (err as Error).message }, 'billing page: cannot read the configuration');
      return rt.reuse('billing-page-unavailable', '', unavailableApp)(event, context);
    }
    const key = JSON.stringify({ frameAncestors: config.portal.frameAncestors, rateLimits: config.portal.rateLimits, logLevel: config.logLevel });
    return rt.reuse('billing-page-app', key, () => pageApp(rt, config))(event, context);
  };
}
