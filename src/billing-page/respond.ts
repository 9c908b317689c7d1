import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import { customerOfAnotherOwner, pageBalances, pageContact, pageInvoices, pageOverdueInvoices, readOnlyPage } from '../db/billing-page';
import { pageHeaders } from './headers';
import { viewerLocale } from './locale';
import { isKnownCustomer, limitOf, pageModel, type PageModel } from './page-model';
import { pageTemplates, renderMessage, renderPage } from './render';
import { tokenTag, verifyPortalToken } from './token';

/**
 * GET /billing/<token> and /billing/<token>.json as one function of the request, so the express
 * route and the Lambda handler answer alike. Every failure of the token (malformed, tampered,
 * expired, signed by no listed secret, naming a customer this owner does not have) gets the same
 * 404, byte for byte.
 */

export interface PageDeps {
  /** The database, opened on first use; a rejection answers 503. */
  db: () => Promise<EntityManager>;
  /** PORTAL_SIGNING_SECRET's values, newest first. */
  secrets: () => Promise<readonly string[]>;
  /** PORTAL_FRAME_ANCESTORS as CSP sources; empty: 'none'. */
  frameAncestors: readonly string[];
  logger: Logger;
  /** Milliseconds since the epoch; a parameter so tests can move time. */
  now?: () => number;
}

export interface PageRequest {
  /** The path segment after /billing/, as received (a token, or a token and `.json`). */
  segment: string;
  acceptLanguage?: string;
  /** `?limit=` of the request. */
  limit?: unknown;
}

export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Overdue invoices listed at most: more than any customer should have. */
const OVERDUE_LIMIT = 100;

export function splitSegment(segment: string): { token: string; json: boolean } {
  return segment.endsWith('.json') ? { token: segment.slice(0, -'.json'.length), json: true } : { token: segment, json: false };
}

function answer(status: number, json: boolean, body: string, ancestors: readonly string[]): PageResponse {
  return { status, headers: pageHeaders(json ? 'json' : 'html', pageTemplates().styleHash, ancestors), body };
}

export function notFound(json: boolean, ancestors: readonly string[]): PageResponse {
  return json
    ? answer(404, true, JSON.stringify({ error: 'Not found' }), ancestors)
    : answer(404, false, renderMessage('Page not found', 'This billing link is not valid. Ask for a new link.'), ancestors);
}

export function unavailable(json: boolean, ancestors: readonly string[]): PageResponse {
  return json
    ? answer(503, true, JSON.stringify({ error: 'Unavailable, try again shortly' }), ancestors)
    : answer(503, false, renderMessage('Billing is unavailable', 'The billing page cannot be shown right now. Try again in a few minutes.'), ancestors);
}

export function tooManyRequests(json: boolean, ancestors: readonly string[]): PageResponse {
  return json
    ? answer(429, true, JSON.stringify({ error: 'Too many requests' }), ancestors)
    : answer(429, false, renderMessage('Too many requests', 'This page was asked for too often. Wait a minute, then reload it.'), ancestors);
}

async function loadModel(db: EntityManager, claims: NonNullable<ReturnType<typeof verifyPortalToken>>, locale: string, limit: number): Promise<PageModel | null> {
  const scope = { customerId: claims.customerId, accountId: claims.accountId };
  const [invoices, overdue, balances, contact] = await Promise.all([
    pageInvoices(db, scope, limit + 1),
    pageOverdueInvoices(db, scope, OVERDUE_LIMIT),
    pageBalances(db, scope),
    pageContact(db, scope),
  ]);
  // A customer of no owner yet (a new tenant, before its first invoice) has a page with nothing on
  // it; one that another owner holds was named with the wrong account, and gets the bad link's 404.
  if (!isKnownCustomer({ invoices, balances }) && (await customerOfAnotherOwner(db, scope))) return null;
  return pageModel({ ...scope, role: claims.role, locale, invoices, limit, overdue, balances, contact });
}

export async function billingPage(deps: PageDeps, req: PageRequest): Promise<PageResponse> {
  const { token, json } = splitSegment(req.segment);
  const ancestors = deps.frameAncestors;
  const now = Math.floor((deps.now ?? Date.now)() / 1000);
  let secrets: readonly string[];
  try {
    secrets = await deps.secrets();
  } catch (err) {
    deps.logger.error({ err: (err as Error).message }, 'billing page: no signing secret');
    return unavailable(json, ancestors);
  }
  const claims = verifyPortalToken(token, secrets, now);
  const tag = tokenTag(token);
  if (claims === null) {
    deps.logger.info({ outcome: 'not_found', tokenTag: tag }, 'billing page refused');
    return notFound(json, ancestors);
  }
  let model: PageModel | null;
  try {
    const locale = viewerLocale(req.acceptLanguage);
    model = await readOnlyPage(await deps.db(), (tx) => loadModel(tx, claims, locale, limitOf(req.limit)));
  } catch (err) {
    deps.logger.error({ err: (err as Error).message, tokenTag: tag }, 'billing page: cannot read the database');
    return unavailable(json, ancestors);
  }
  if (model === null) {
    deps.logger.info({ outcome: 'not_found', tokenTag: tag }, 'billing page refused');
    return notFound(json, ancestors);
  }
  deps.logger.debug({ outcome: 'shown', tokenTag: tag, customerId: claims.customerId, format: json ? 'json' : 'html' }, 'billing page');
  return json ? answer(200, true, JSON.stringify(model), ancestors) : answer(200, false, renderPage(model), ancestors);
}
