import express, { type ErrorRequestHandler, type Router } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

export interface StatusDeps {
  /** Resolves when every dependency the process needs answers; rejects with what is down. */
  readiness: () => Promise<void>;
  /** GET /metrics (see metricsEndpoint); absent, the path is not served. */
  metricsEndpoint?: (req: IncomingMessage, res: ServerResponse) => void;
}

/** GET /healthz (the process answers), /readyz (so do its dependencies) and /metrics: every long-running process serves them. */
export function statusRoutes(deps: StatusDeps): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await deps.readiness();
      res.json({ status: 'ready' });
    } catch (err) {
      res.status(503).json({ status: 'not ready', error: (err as Error).message });
    }
  });
  const metrics = deps.metricsEndpoint;
  if (metrics) router.get('/metrics', (req, res) => metrics(req, res));
  return router;
}

/** The HTTP listener of a process that takes no webhooks (billing worker, billing mailer): status routes only. */
export function createStatusApp(deps: StatusDeps): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(statusRoutes(deps));
  app.use((_req, res) => {
    res.status(404).json({ error: 'Not found' });
  });
  const onError: ErrorRequestHandler = (_err, _req, res, _next) => {
    res.status(500).json({ error: 'Internal error' });
  };
  app.use(onError);
  return app;
}
