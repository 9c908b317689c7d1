/**
 * The headers of every billing page answer, the 404s included. The token is in the path, so the
 * page must not leak it (no Referer), must not be kept (no-store), and sets no cookie.
 */

/**
 * PORTAL_FRAME_ANCESTORS as CSP sources: `none` (the default: never framed), `self`, or origins
 * (https://app.example.com, https://*.example.com). X-Frame-Options can express only the first two;
 * with a list of origins it is left out and browsers go by frame-ancestors.
 */
function frameHeaders(ancestors: readonly string[]): Record<string, string> {
  const sources = ancestors.length === 0 ? ["'none'"] : ancestors;
  const headers: Record<string, string> = {};
  if (sources.length === 1 && sources[0] === "'none'") headers['X-Frame-Options'] = 'DENY';
  else if (sources.length === 1 && sources[0] === "'self'") headers['X-Frame-Options'] = 'SAMEORIGIN';
  return { ...headers, frameAncestors: sources.join(' ') };
}

export function pageHeaders(contentType: 'html' | 'json', styleHash: string, ancestors: readonly string[]): Record<string, string> {
  const { frameAncestors, ...frame } = frameHeaders(ancestors);
  const csp = [
    "default-src 'none'",
    `style-src ${styleHash}`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
  return {
    'Content-Type': contentType === 'html' ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
    'Content-Security-Policy': csp,
    ...frame,
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    Vary: 'Accept-Language',
  };
}
