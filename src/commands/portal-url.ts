import { loadConfig } from '../config';
import { DEFAULT_TTL, MAX_TTL_SECONDS, pageUrl } from '../billing-page/link';
import { PORTAL_ROLES, signPortalToken, type PortalRole } from '../billing-page/token';
import { localPortalSecret } from '../embedded/webhook-secret';
import { accountOption, CUSTOMER_ID, durationSeconds } from './options';
import { print, UsageError } from './usage';

export interface PortalUrlOptions {
  account?: string;
  role?: string;
  ttl?: string;
  baseUrl?: string;
  json?: boolean;
}

/** `--ttl` in seconds (90s, 30m, 12h, 7d), or null when it is not a duration from one minute to MAX_TTL_SECONDS. */
export function parseTtl(raw: string): number | null {
  const seconds = durationSeconds(raw, 'smhd');
  return seconds !== null && seconds >= 60 && seconds <= MAX_TTL_SECONDS ? seconds : null;
}

function baseUrlOf(raw: string | undefined, fallback: string): string {
  const base = raw ?? fallback;
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new UsageError('--base-url: not a URL (https://billing.example.com)');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UsageError('--base-url: must be an http(s) URL');
  if (u.search || u.hash) throw new UsageError('--base-url: no query or fragment');
  return base;
}

/**
 * `billing portal-url cus_…`: a signed link to the customer's billing page. Nothing is looked up:
 * a platform's backend mints the same links with the same secret, and a link for a customer this
 * processor does not know answers 404 like any other bad link.
 */
export async function portalUrlCommand(customer: string, opts: PortalUrlOptions): Promise<void> {
  if (!CUSTOMER_ID.test(customer) || customer.length > 68) throw new UsageError('not a Stripe customer id: expected cus_…');
  const account = accountOption(opts.account) ?? null;
  const role = (opts.role ?? 'admin') as PortalRole;
  if (!PORTAL_ROLES.includes(role)) throw new UsageError(`--role: ${PORTAL_ROLES.join(' or ')}`);
  const ttl = parseTtl(opts.ttl ?? DEFAULT_TTL);
  if (ttl === null) throw new UsageError(`--ttl: a duration like 30m, 12h or 7d, from 1m to ${MAX_TTL_SECONDS / 86_400}d`);
  const config = loadConfig();
  const base = baseUrlOf(opts.baseUrl, config.portal.baseUrl ?? `http://${config.host}:${config.port}`);
  // The first listed secret signs; all of them verify while a secret is rolled.
  const secret = config.portal.signingSecrets[0] ?? (await localPortalSecret(config.dataDir));
  const expiresAt = Math.floor(Date.now() / 1000) + ttl;
  const token = signPortalToken({ customerId: customer, accountId: account, role, expiresAt }, secret);
  const url = pageUrl(base, token);
  print(
    { url, json_url: `${url}.json`, customer, account, role, expires_at: new Date(expiresAt * 1000).toISOString() },
    opts.json ?? false,
    () => url,
  );
}
