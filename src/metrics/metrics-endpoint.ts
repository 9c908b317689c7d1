import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What GET /metrics serves: a registry's exposition. */
export interface MetricsPage {
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsEndpointOptions {
  page: MetricsPage;
  /** METRICS_TOKEN: when set, a scrape must bring `Authorization: Bearer <token>`. */
  token?: string;
  onError?: (err: unknown) => void;
}

/** Digests of equal length whatever was sent, so the comparison takes the same time for any guess. */
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

function authorized(header: string | undefined, expected: Buffer): boolean {
  const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  // A missing or malformed header is compared too, so its answer takes no less time.
  return timingSafeEqual(digest(m?.[1] ?? ''), expected) && m !== null;
}

/** GET /metrics; a request without the token gets 401 and the challenge, never a hint of the token. */
export function metricsEndpoint(o: MetricsEndpointOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const expected = o.token === undefined ? undefined : digest(o.token);
  return (req, res) => {
    if (expected && !authorized(req.headers.authorization, expected)) {
      res.statusCode = 401;
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ error: 'Unauthorized: send Authorization: Bearer <METRICS_TOKEN>' }));
      return;
    }
    o.page
      .render()
      .then((text) => {
        res.statusCode = 200;
        res.setHeader('Content-Type', o.page.contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.end(text);
      })
      .catch((err: unknown) => {
        o.onError?.(err);
        res.statusCode = 500;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ error: 'Internal error' }));
      });
  };
}
