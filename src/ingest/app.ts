import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { noMetrics, secondsSince, type WebhookOutcome } from '../metrics/metrics';
import { billingPageRouter, type PageRouteDeps } from '../billing-page/routes';
import { statusRoutes, type StatusDeps } from '../run/status-routes';
import { handleWebhook, type WebhookAnswer, type WebhookDeps } from './webhook-handler';

export interface AppDeps extends WebhookDeps, StatusDeps {
  maxBodyBytes: number;
  /** The customers' billing pages under /billing/; absent, that path is not served. */
  billingPage?: PageRouteDeps;
  /** TRUST_PROXY: the proxies whose X-Forwarded-For names the client (the billing page's per-address limit); false, none. */
  trustProxy?: number | string[] | false;
}

export const WEBHOOK_PATH = '/webhooks/stripe';

/** An answer to a request whose body could not be read; counted unless it is our own fault (500). */
type ErrorAnswer = Omit<WebhookAnswer, 'outcome'> & { outcome?: WebhookOutcome };

/** What express's `res.status(s).json(body)` writes, header for header, without its per-request machinery. */
function sendJson(res: ServerResponse, answer: ErrorAnswer): void {
  const text = JSON.stringify(answer.body);
  res.statusCode = answer.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', String(Buffer.byteLength(text, 'utf8')));
  res.end(text, 'utf8');
}

/** The answer to an error raised while reading the body or handling the request (body-parser's are http-errors). */
function errorAnswer(deps: AppDeps, err: { type?: string; status?: number; length?: number }): ErrorAnswer {
  if (err.type === 'entity.too.large') {
    // The size is known when Content-Length announced it; a streamed body is cut at the limit.
    const bytes = typeof err.length === 'number' ? { bytes: err.length } : {};
    deps.logger.warn({ outcome: 'rejected', reason: 'body too large', ...bytes }, 'webhook rejected');
    return { status: 413, body: { error: `Body larger than ${deps.maxBodyBytes} bytes` }, outcome: 'too_large' };
  }
  const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
  if (status === 500) {
    deps.logger.error({ err }, 'unexpected error in request');
    return { status, body: { error: 'Internal error' } };
  }
  return { status, body: { error: 'Bad request body' }, outcome: 'rejected' };
}

/** Counts an answer given before handleWebhook could (handleWebhook counts its own). */
function countError(deps: AppDeps, answer: ErrorAnswer, receivedAt: bigint | undefined): void {
  if (answer.outcome && receivedAt !== undefined) (deps.metrics ?? noMetrics).webhook(answer.outcome, secondsSince(receivedAt));
}

/** Raw bytes for every content type: the signature covers the exact body, and a parsed or re-encoded body would never verify. */
const rawBody = (deps: AppDeps) => express.raw({ type: () => true, limit: deps.maxBodyBytes });

const bodyOf = (req: IncomingMessage & { body?: unknown }) => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));

/**
 * POST /webhooks/stripe without express: the body read by express's own raw parser (the same
 * limits, compressed bodies and errors), the answer written as express's `res.json` writes it.
 */
function directWebhook(deps: AppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const readRaw = rawBody(deps);
  const fail = (res: ServerResponse, err: unknown, receivedAt: bigint) => {
    if (res.headersSent) return;
    const answer = errorAnswer(deps, (err ?? {}) as { type?: string });
    countError(deps, answer, receivedAt);
    sendJson(res, answer);
  };
  return (req, res) => {
    const receivedAt = process.hrtime.bigint();
    readRaw(req, res, (err) => {
      if (err) return fail(res, err, receivedAt);
      const header = req.headers['stripe-signature'];
      handleWebhook(deps, bodyOf(req), typeof header === 'string' ? header : undefined, receivedAt)
        .then((answer) => sendJson(res, answer))
        .catch((e: unknown) => fail(res, e, receivedAt));
    });
  };
}

/** The path as it is posted by Stripe; other spellings express also routes here go through express. */
function isWebhookPost(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || req.url === undefined) return false;
  const q = req.url.indexOf('?');
  return (q < 0 ? req.url : req.url.slice(0, q)) === WEBHOOK_PATH;
}

/** Marks a webhook's arrival, so its answer is timed from there whatever happens to its body. */
const received: RequestHandler = (_req, res, next) => {
  res.locals['receivedAt'] = process.hrtime.bigint();
  next();
};

/**
 * The HTTP server's request listener. Webhooks go straight to their route: express's per-request
 * setup and routing cost more CPU than verifying the signature and parsing the event together
 * (measured with the bench's CPU profile). Everything else, and any other spelling of the webhook
 * path (express matches it case-insensitively, with a trailing slash), goes through express:
 * /healthz, /readyz and /metrics among them.
 */
export function createApp(deps: AppDeps): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.trustProxy ?? false);

  app.post(WEBHOOK_PATH, received, rawBody(deps), async (req, res) => {
    const answer = await handleWebhook(deps, bodyOf(req), req.get('stripe-signature'), res.locals['receivedAt'] as bigint);
    res.status(answer.status).json(answer.body);
  });

  app.use(statusRoutes(deps));
  if (deps.billingPage) app.use(billingPageRouter(deps.billingPage));

  app.use((_req, res) => {
    res.status(404).json({ error: 'Not found' });
  });

  const onError: ErrorRequestHandler = (err: { type?: string; status?: number; length?: number }, _req, res, _next) => {
    const answer = errorAnswer(deps, err);
    countError(deps, answer, res.locals['receivedAt'] as bigint | undefined);
    res.status(answer.status).json(answer.body);
  };
  app.use(onError);
  const webhook = directWebhook(deps);
  return (req, res) => (isWebhookPost(req) ? webhook(req, res) : app(req, res));
}
