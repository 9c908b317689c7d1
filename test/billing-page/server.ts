import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { billingPageRouter, type PageRateLimits } from '../../src/billing-page/routes';

export const PORTAL_SECRET = 'test-portal-secret-0123456789abcdefghijklmnop';

export interface PageServer {
  origin: string;
  close(): Promise<void>;
}

/** The billing page's router on a port of its own, over a test database. */
export async function startPageServer(
  ds: DataSource,
  o: { rateLimits?: Partial<PageRateLimits>; frameAncestors?: string[]; secrets?: string[]; now?: () => number } = {},
): Promise<PageServer> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    billingPageRouter({
      db: () => Promise.resolve(ds.manager),
      secrets: () => Promise.resolve(o.secrets ?? [PORTAL_SECRET]),
      frameAncestors: o.frameAncestors ?? ["'none'"],
      rateLimits: { windowSeconds: 60, perIp: 10_000, perToken: 10_000, ...o.rateLimits },
      logger: pino({ level: 'silent' }),
      ...(o.now ? { now: o.now } : {}),
    }),
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
