import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { MAX_TTL_SECONDS } from './link';

/**
 * A billing page link's token: `base64url(JSON claims) + "." + base64url(HMAC-SHA256)`, the MAC
 * keyed with the UTF-8 bytes of PORTAL_SIGNING_SECRET over the ASCII text of the first part.
 * Claims: `c` the customer (cus_…), `a` the connected account (acct_…; absent for the platform's
 * own customers), `r` the role (admin or member), `e` the expiry in unix seconds, at most
 * MAX_TTL_SECONDS (31 days) ahead. A platform's
 * backend mints the same tokens with the same secret (README, "Billing page").
 */

export const PORTAL_ROLES = ['admin', 'member'] as const;
export type PortalRole = (typeof PORTAL_ROLES)[number];

export interface PortalClaims {
  customerId: string;
  /** null: the platform's own customer. */
  accountId: string | null;
  role: PortalRole;
  /** Unix seconds; the token is refused from this second on. */
  expiresAt: number;
}

const CUSTOMER_ID_PATTERN = /^cus_[A-Za-z0-9]{1,64}$/;
const ACCOUNT_ID_PATTERN = /^acct_[A-Za-z0-9]{1,64}$/;

/** Far longer than any token we mint (about 150 characters); anything longer is not read at all. */
export const MAX_TOKEN_LENGTH = 512;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** How far ahead of ours the clock of a backend that mints links may run. */
const CLOCK_SKEW_SECONDS = 300;

const mac = (secret: string, payload: string): Buffer => createHmac('sha256', Buffer.from(secret, 'utf8')).update(payload, 'ascii').digest();

export function signPortalToken(claims: PortalClaims, secret: string): string {
  if (!CUSTOMER_ID_PATTERN.test(claims.customerId)) throw new RangeError('customer must be a Stripe customer id (cus_…)');
  if (claims.accountId !== null && !ACCOUNT_ID_PATTERN.test(claims.accountId)) throw new RangeError('account must be a connected account id (acct_…)');
  if (!Number.isSafeInteger(claims.expiresAt) || claims.expiresAt <= 0) throw new RangeError('expiry must be whole unix seconds');
  const body: Record<string, unknown> = { c: claims.customerId };
  if (claims.accountId !== null) body['a'] = claims.accountId;
  body['r'] = claims.role;
  body['e'] = claims.expiresAt;
  const payload = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

/** The claims, when the JSON has exactly the shape signPortalToken writes; else null. */
function claimsOf(json: unknown): PortalClaims | null {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const o = json as Record<string, unknown>;
  const { c, a, r, e } = o;
  if (typeof c !== 'string' || !CUSTOMER_ID_PATTERN.test(c)) return null;
  if (a !== undefined && a !== null && (typeof a !== 'string' || !ACCOUNT_ID_PATTERN.test(a))) return null;
  if (r !== 'admin' && r !== 'member') return null;
  if (typeof e !== 'number' || !Number.isSafeInteger(e)) return null;
  return { customerId: c, accountId: typeof a === 'string' ? a : null, role: r, expiresAt: e };
}

/**
 * The token's claims when one of the secrets made its MAC and it has not expired; null for
 * anything else, without saying which check failed (the page answers every failure alike).
 * Every secret is tried, so that a rolled secret's links keep working while it is still listed.
 */
export function verifyPortalToken(token: string, secrets: readonly string[], nowSeconds: number): PortalClaims | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return null;
  const payload = token.slice(0, dot);
  const signature = token.slice(dot + 1);
  if (!BASE64URL.test(payload) || !BASE64URL.test(signature)) return null;
  const given = Buffer.from(signature, 'base64url');
  // Re-encoding catches a signature with stray trailing bits, which would decode to the same bytes.
  if (given.length !== 32 || given.toString('base64url') !== signature) return null;
  let matched = false;
  for (const secret of secrets) {
    // Every secret is compared, so the time taken does not say which one matched.
    if (timingSafeEqual(mac(secret, payload), given)) matched = true;
  }
  if (!matched) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const claims = claimsOf(json);
  if (claims === null || claims.expiresAt <= nowSeconds) return null;
  // A link is a bearer credential: one that outlives the longest lifetime `portal-url` mints (a
  // backend's bug, or a key misused) is refused like an expired one. A few minutes' grace for the
  // minting server's clock.
  if (claims.expiresAt > nowSeconds + MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS) return null;
  return claims;
}

/** A short, stable tag of a token for logs: never the token itself, which is a credential. */
export function tokenTag(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 12);
}
