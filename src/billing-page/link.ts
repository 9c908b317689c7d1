/** `--ttl` of `billing portal-url`: how long a link works, as 90s, 30m, 12h or 7d. */
export const DEFAULT_TTL = '12h';
/** A link is a credential in a URL: it should not outlive a working month. */
export const MAX_TTL_SECONDS = 31 * 86_400;

/** The page's URL under `base` (scheme, host, and any path prefix a proxy adds). */
export function pageUrl(base: string, token: string): string {
  return `${base.replace(/\/+$/, '')}/billing/${token}`;
}
