/**
 * Whose address the billing page's per-address limit counts, through the processor's own app
 * (createApp, as `npm start` and `billing serve` run it): the connection's, unless TRUST_PROXY
 * names the proxies in front, whose X-Forwarded-For then names the client.
 */
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { serveApp, type RunningApp } from '../ingest/harness';
import { PORTAL_SECRET } from './server';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(4);
});
afterAll(async () => {
  await db?.drop();
});

async function appWith(trustProxy: string | undefined): Promise<RunningApp> {
  const config = loadConfig(trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy });
  return serveApp({
    queue: { send: () => Promise.reject(new Error('no webhook in this test')) },
    trustProxy: config.portal.trustProxy,
    billingPage: {
      db: () => Promise.resolve(db.ds.manager),
      secrets: () => Promise.resolve([PORTAL_SECRET]),
      frameAncestors: ["'none'"],
      // One request per address and window, so the second from the same client is refused.
      rateLimits: { windowSeconds: 600, perIp: 1, perToken: 10_000 },
      logger: pino({ level: 'silent' }),
    },
  });
}

/** Two requests from two clients behind one proxy (different X-Forwarded-For, one connection address). */
async function twoClients(app: RunningApp): Promise<number[]> {
  const statuses: number[] = [];
  for (const client of ['198.51.100.7', '198.51.100.8']) {
    statuses.push((await fetch(`${app.baseUrl}/billing/not-a-token`, { headers: { 'x-forwarded-for': client } })).status);
  }
  return statuses;
}

it.each<[string, string | undefined]>([
  ["without TRUST_PROXY, a client cannot choose the address it is counted under: both share the connection's", undefined],
  ['with TRUST_PROXY naming a range the connection is not from, X-Forwarded-For is ignored', '10.0.0.0/8'],
])('%s', async (_name, trustProxy) => {
  await db.ds.query('TRUNCATE billing_page_hits');
  const app = await appWith(trustProxy);
  try {
    expect(await twoClients(app)).toEqual([404, 429]);
  } finally {
    await app.close();
  }
});

it('with TRUST_PROXY=1 (one load balancer), each client behind it is counted under its own address', async () => {
  await db.ds.query('TRUNCATE billing_page_hits');
  const app = await appWith('1');
  try {
    expect(await twoClients(app)).toEqual([404, 404]);
    // The same client again is over its limit.
    expect((await fetch(`${app.baseUrl}/billing/not-a-token`, { headers: { 'x-forwarded-for': '198.51.100.7' } })).status).toBe(429);
  } finally {
    await app.close();
  }
});
