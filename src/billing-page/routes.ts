import express, { type Request, type Response, type Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { billingPage, notFound, splitSegment, tooManyRequests, type PageDeps, type PageResponse } from './respond';
import { tokenTag } from './token';

/** PORTAL_RATE_LIMIT_*: requests allowed per window, per client address and per token. */
export interface PageRateLimits {
  windowSeconds: number;
  perIp: number;
  perToken: number;
}

export interface PageRouteDeps extends PageDeps {
  rateLimits: PageRateLimits;
}

export const BILLING_PAGE_PREFIX = '/billing';

function send(res: Response, answer: PageResponse): void {
  res.status(answer.status).set(answer.headers).send(answer.body);
}

const segmentOf = (req: Request): string => {
  const raw = req.params['segment'];
  return typeof raw === 'string' ? raw : '';
};

/**
 * GET /billing/<token> (HTML) and /billing/<token>.json, behind two limits: per client address
 * (whatever the token, so guessing costs the guesser) and per token (an embedded page reloaded in
 * a loop slows down alone). Beyond either, 429 with the page's own headers.
 */
export function billingPageRouter(deps: PageRouteDeps): Router {
  const router = express.Router();
  const windowMs = deps.rateLimits.windowSeconds * 1000;
  const refuse = (req: Request, res: Response) => send(res, tooManyRequests(splitSegment(segmentOf(req)).json, deps.frameAncestors));
  const common = { windowMs, standardHeaders: 'draft-8' as const, legacyHeaders: false, handler: refuse };
  const perIp = rateLimit({ ...common, limit: deps.rateLimits.perIp, identifier: 'ip' });
  const perToken = rateLimit({
    ...common,
    limit: deps.rateLimits.perToken,
    identifier: 'token',
    // The HTML page and its JSON count together; the key is a hash, never the token itself.
    keyGenerator: (req) => `token:${tokenTag(splitSegment(segmentOf(req)).token)}`,
  });
  router.get(`${BILLING_PAGE_PREFIX}/:segment`, perIp, perToken, (req, res, next) => {
    billingPage(deps, { segment: segmentOf(req), acceptLanguage: req.get('accept-language'), limit: req.query['limit'] })
      .then((answer) => send(res, answer))
      .catch(next);
  });
  // Anything else under /billing/ is a page that does not exist, with the same answer.
  router.use(BILLING_PAGE_PREFIX, perIp, (req, res) => send(res, notFound(req.path.endsWith('.json'), deps.frameAncestors)));
  return router;
}
