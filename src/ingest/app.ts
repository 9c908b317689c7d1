import express, { type ErrorRequestHandler, type Express } from 'express';
import { handleWebhook, type WebhookDeps } from './webhook-handler';

export interface AppDeps extends WebhookDeps {
  maxBodyBytes: number;
  /** Resolves when every dependency the process needs answers; rejects with what is down. */
  readiness: () => Promise<void>;
}

export const WEBHOOK_PATH = '/webhooks/stripe';

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Raw bytes for every content type: the signature covers the exact body, and a parsed or
  // re-encoded body would never verify.
  app.post(WEBHOOK_PATH, express.raw({ type: () => true, limit: deps.maxBodyBytes }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const answer = await handleWebhook(deps, raw, req.get('stripe-signature'));
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
    if (err.type === 'entity.too.large') {
      // The size is known when Content-Length announced it; a streamed body is cut at the limit.
      const bytes = typeof err.length === 'number' ? { bytes: err.length } : {};
      deps.logger.warn({ outcome: 'rejected', reason: 'body too large', ...bytes }, 'webhook rejected');
      res.status(413).json({ error: `Body larger than ${deps.maxBodyBytes} bytes` });
      return;
    }
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) deps.logger.error({ err }, 'unexpected error in request');
    res.status(status).json({ error: status === 500 ? 'Internal error' : 'Bad request body' });
  };
  app.use(onError);
  return app;
}
