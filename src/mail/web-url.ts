/**
 * The URL when it is a web link (http or https), normalised; null for anything else. Links in an
 * email go only to web pages: a `javascript:` or `data:` URL behind a button would run in webmail.
 */
export function webUrl(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}
