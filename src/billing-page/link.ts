/** `--ttl` of `billing portal-url`: how long a link works, as 90s, 30m, 12h or 7d. */
export const DEFAULT_TTL = '12h';
/** A link is a credential in a URL: it should not outlive a working month. */
export const MAX_TTL_SECONDS = 31 * 86_400;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds, or null when `raw` is not a duration between one minute and MAX_TTL_SECONDS. */
export function parseTtl(raw: string): number | null {
  const m = /^(\d{1,7})([smhd])$/.exec(raw.trim());
  if (!m) return null;
  const seconds = Number(m[1]) * UNITS[m[2]!]!;
  return seconds >= 60 && seconds <= MAX_TTL_SECONDS ? seconds : null;
}

/** The page's URL under `base` (scheme, host, and any path prefix a proxy adds). */
export function pageUrl(base: string, token: string): string {
  return `${base.replace(/\/+$/, '')}/billing/${token}`;
}
