import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { DatabaseRateLimitStore } from './rate-limit-store';
import { billingPage, notFound, splitSegment, tooManyRequests, unavailable, type PageDeps, type PageResponse } from './respond';
import { tokenTag } from './token';

/** PORTAL_RATE_LIMIT_*: requests allowed per window, per client address and per token. */
export interface PageRateLimits {
  windowSeconds: number;
  perIp: number;
  perToken: number;
}

export interface PageRouteDeps extends PageDeps {
  rateLimits: PageRateLimits;
  /**
   * Where the limits count. 'database' (the default): in billing_page_hits through `db`, shared by
   * every process and Lambda instance. 'memory': this process alone, only for a process with no
   * database at all (`billing serve` without DATABASE_URL), whose pages answer 503 anyway.
   */
  limitStore?: 'database' | 'memory';
}

const BILLING_PAGE_PREFIX = '/billing';

function send(res: Response, answer: PageResponse): void {
  res.status(answer.status).set(answer.headers).send(answer.body);
}

const segmentOf = (req: Request): string => {
  const raw = req.params['segment'];
  return typeof raw === 'string' ? raw : '';
};

/** The path asks for JSON; read from the raw path, since a malformed one has no decoded segment. */
const wantsJson = (req: Request): boolean => req.path.endsWith('.json');

/** What express's router raises for a path segment whose percent-encoding does not decode. */
const isMalformedPath = (err: unknown): boolean =>
  err instanceof URIError || (typeof err === 'object' && err !== null && (err as { status?: unknown }).status === 400);

/** express-rate-limit's logger, writing through the page's own (store failures, misconfigurations). */
const limiterLogger = (logger: Logger) => ({
  error: (err: unknown, message?: string) => logger.error({ err: err instanceof Error ? err.message : String(err) }, message ?? 'rate limiter error'),
  warn: (err: unknown, message?: string) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, message ?? 'rate limiter warning'),
});

/**
 * GET /billing/<token> (HTML) and /billing/<token>.json, behind two limits: per client address
 * (whatever the token, so guessing costs the guesser) and per token (an embedded page reloaded in
 * a loop slows down alone). Beyond either, 429 with the page's own headers. Nothing under
 * /billing/ leaves this router: a failure answers the page's 503, a path that does not decode the
 * page's 404.
 */
export function billingPageRouter(deps: PageRouteDeps): Router {
  const router = express.Router();
  const storeFor = (prefix: string): Store | undefined =>
    (deps.limitStore ?? 'database') === 'database' ? new DatabaseRateLimitStore(prefix, deps.db) : undefined;
  const refuse = (req: Request, res: Response) => send(res, tooManyRequests(wantsJson(req), deps.frameAncestors));
  const common = {
    windowMs: deps.rateLimits.windowSeconds * 1000,
    standardHeaders: 'draft-8' as const,
    legacyHeaders: false,
    handler: refuse,
    logger: limiterLogger(deps.logger),
    // A database that cannot be reached must cost the viewer the page's 503, not a bare 500: the
    // request goes on uncounted, and the page, which reads the same database, answers 503.
    passOnStoreError: true,
  };
  const ipStore = storeFor('ip:');
  const perIp = rateLimit({ ...common, limit: deps.rateLimits.perIp, identifier: 'ip', ...(ipStore ? { store: ipStore } : {}) });
  const tokenStore = storeFor('token:');
  const perToken = rateLimit({
    ...common,
    limit: deps.rateLimits.perToken,
    identifier: 'token',
    ...(tokenStore ? { store: tokenStore } : {}),
    // The HTML page and its JSON count together; the key is a hash, never the token itself.
    keyGenerator: (req) => tokenTag(splitSegment(segmentOf(req)).token),
  });

  router.get(`${BILLING_PAGE_PREFIX}/:segment`, perIp, perToken, (req, res) => {
    const segment = segmentOf(req);
    billingPage(deps, { segment, acceptLanguage: req.get('accept-language'), limit: req.query['limit'] })
      .then((answer) => send(res, answer))
      .catch((err: unknown) => {
        deps.logger.error({ err: err instanceof Error ? err.message : String(err), tokenTag: tokenTag(splitSegment(segment).token) }, 'billing page failed');
        if (!res.headersSent) send(res, unavailable(splitSegment(segment).json, deps.frameAncestors));
      });
  });
  // Anything else under /billing/ is a page that does not exist, with the same answer.
  router.use(BILLING_PAGE_PREFIX, perIp, (req, res) => send(res, notFound(wantsJson(req), deps.frameAncestors)));

  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (isMalformedPath(err)) {
      // Counted against the address like any other bad link, then the same 404 byte for byte.
      perIp(req, res, () => send(res, notFound(wantsJson(req), deps.frameAncestors)));
      return;
    }
    deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'billing page failed');
    send(res, unavailable(wantsJson(req), deps.frameAncestors));
  };
  router.use(BILLING_PAGE_PREFIX, onError);
  return router;
}
