import express, { type ErrorRequestHandler } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { handleWebhook, type WebhookAnswer, type WebhookDeps } from './webhook-handler';

export interface AppDeps extends WebhookDeps {
  maxBodyBytes: number;
  /** Resolves when every dependency the process needs answers; rejects with what is down. */
  readiness: () => Promise<void>;
}

export const WEBHOOK_PATH = '/webhooks/stripe';

/** What express's `res.status(s).json(body)` writes, header for header, without its per-request machinery. */
function sendJson(res: ServerResponse, answer: WebhookAnswer): void {
  const text = JSON.stringify(answer.body);
  res.statusCode = answer.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', String(Buffer.byteLength(text, 'utf8')));
  res.end(text, 'utf8');
}

/** The answer to an error raised while reading the body or handling the request (body-parser's are http-errors). */
function errorAnswer(deps: AppDeps, err: { type?: string; status?: number; length?: number }): WebhookAnswer {
  if (err.type === 'entity.too.large') {
    // The size is known when Content-Length announced it; a streamed body is cut at the limit.
    const bytes = typeof err.length === 'number' ? { bytes: err.length } : {};
    deps.logger.warn({ outcome: 'rejected', reason: 'body too large', ...bytes }, 'webhook rejected');
    return { status: 413, body: { error: `Body larger than ${deps.maxBodyBytes} bytes` } };
  }
  const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
  if (status === 500) deps.logger.error({ err }, 'unexpected error in request');
  return { status, body: { error: status === 500 ? 'Internal error' : 'Bad request body' } };
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
  const fail = (res: ServerResponse, err: unknown) => {
    if (!res.headersSent) sendJson(res, errorAnswer(deps, (err ?? {}) as { type?: string }));
  };
  return (req, res) => {
    readRaw(req, res, (err) => {
      if (err) return fail(res, err);
      const header = req.headers['stripe-signature'];
      handleWebhook(deps, bodyOf(req), typeof header === 'string' ? header : undefined)
        .then((answer) => sendJson(res, answer))
        .catch((e: unknown) => fail(res, e));
    });
  };
}

/** The path as it is posted by Stripe; other spellings express also routes here go through express. */
function isWebhookPost(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || req.url === undefined) return false;
  const q = req.url.indexOf('?');
  return (q < 0 ? req.url : req.url.slice(0, q)) === WEBHOOK_PATH;
}

/**
 * The HTTP server's request listener. Webhooks go straight to their route: express's per-request
 * setup and routing cost more CPU than verifying the signature and parsing the event together
 * (measured with the bench's CPU profile). Everything else, and any other spelling of the webhook
 * path (express matches it case-insensitively, with a trailing slash), goes through express.
 */
export function createApp(deps: AppDeps): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.post(WEBHOOK_PATH, rawBody(deps), async (req, res) => {
    const answer = await handleWebhook(deps, bodyOf(req), req.get('stripe-signature'));
    res.status(answer.status).json(answer.body);
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    try {
      await deps.readiness();
      res.json({ status: 'ready' });
    } catch (err) {
      res.status(503).json({ status: 'not ready', error: (err as Error).message });
    }
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'Not found' });
  });

  const onError: ErrorRequestHandler = (err: { type?: string; status?: number; length?: number }, _req, res, _next) => {
    const answer = errorAnswer(deps, err);
    res.status(answer.status).json(answer.body);
  };
  app.use(onError);
  const webhook = directWebhook(deps);
  return (req, res) => (isWebhookPost(req) ? webhook(req, res) : app(req, res));
}
