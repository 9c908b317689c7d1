import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { EntityManager } from 'typeorm';
import { billingPageRouter, type PageRateLimits } from '../../src/billing-page/routes';
import { signPortalToken, tokenTag, type PortalClaims } from '../../src/billing-page/token';
import { countHit, pruneExpiredHits, resetHits } from '../../src/db/billing-page-hits';
import { createDataSource } from '../../src/db/data-source';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { uid } from '../support/stripe-events';
import { seedInvoices } from './seed';
import { PORTAL_SECRET } from './server';

/**
 * The page's limits count in billing_page_hits: two app instances over one database (two
 * processes, or two Lambda instances) share them, per token and per address.
 */
jest.setTimeout(120_000);

let db: TestDatabase;
const customer = uid('cus');
const servers: Array<{ close: () => Promise<void> }> = [];

beforeAll(async () => {
  db = await createTestDatabase(4);
  await seedInvoices(db.ds, { customer, name: 'Shared Limits Ltd', email: 'ap@shared.test' }, [{ kind: 'open' }]);
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await db?.drop();
});
// Every request here comes from 127.0.0.1: each test starts that address afresh.
beforeEach(() => resetHits(db.ds.manager, 'ip:127.0.0.1'));

const token = (c: Partial<PortalClaims> = {}) =>
  signPortalToken({ customerId: customer, accountId: null, role: 'admin', expiresAt: Math.floor(Date.now() / 1000) + 3600, ...c }, PORTAL_SECRET);

async function instance(limits: Partial<PageRateLimits>, o: { db?: () => Promise<EntityManager>; limitStore?: 'database' | 'memory' } = {}): Promise<string> {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    billingPageRouter({
      db: o.db ?? (() => Promise.resolve(db.ds.manager)),
      secrets: () => Promise.resolve([PORTAL_SECRET]),
      frameAncestors: ["'none'"],
      rateLimits: { windowSeconds: 60, perIp: 10_000, perToken: 10_000, ...limits },
      logger: pino({ level: 'silent' }),
      ...(o.limitStore ? { limitStore: o.limitStore } : {}),
    }),
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push({
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function expectPageRefusal(res: Response): void {
  expect(res.status).toBe(429);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(res.headers.get('ratelimit-policy')).toMatch(/"(ip|token)"; q=\d+; w=\d+/);
  expect(res.headers.get('ratelimit')).toMatch(/"(ip|token)"; r=0; t=\d+/);
}

describe('limits shared by every instance over one database', () => {
  it('per token: the second instance sees the first one\'s hits; the HTML and JSON count together', async () => {
    const [a, b] = await Promise.all([instance({ perToken: 3 }), instance({ perToken: 3 })]);
    const t = token();
    const statuses = [];
    for (const url of [`${a}/billing/${t}`, `${b}/billing/${t}.json`, `${a}/billing/${t}`, `${b}/billing/${t}`]) statuses.push((await fetch(url)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await fetch(`${a}/billing/${t}.json`);
    expectPageRefusal(refused);
    expect(refused.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await refused.json()).toEqual({ error: 'Too many requests' });
    // Another token is not slowed by this one, on either instance.
    expect((await fetch(`${b}/billing/${token({ role: 'member' })}`)).status).toBe(200);
    // The counter is keyed by the token's hash, never the token.
    expect((await countHit(db.ds.manager, `token:${tokenTag(t)}`, 60)).hits).toBe(6);
  });

  it('per address, whatever the tokens, across instances', async () => {
    const [a, b] = await Promise.all([instance({ perIp: 4 }), instance({ perIp: 4 })]);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(`${i % 2 ? b : a}/billing/guess-${i}`)).status);
    expect(statuses).toEqual([404, 404, 404, 404, 429, 429]);
    const refused = await fetch(`${a}/billing/${token()}`);
    expectPageRefusal(refused);
    expect(refused.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const ok = await fetch(`${b}/billing/not-a-token`, { headers: {} });
    expect(ok.status).toBe(429);
  });

  it('answers with RateLimit headers below the limit too', async () => {
    const a = await instance({ perIp: 50, perToken: 7 });
    const res = await fetch(`${a}/billing/${token({ role: 'member', expiresAt: Math.floor(Date.now() / 1000) + 1234 })}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-policy')).toContain('"ip"; q=50; w=60');
    expect(res.headers.get('ratelimit-policy')).toContain('"token"; q=7; w=60');
  });

  it('starts a new window once the last one has ended', async () => {
    const a = await instance({ perToken: 2, windowSeconds: 1 });
    const t = token({ expiresAt: Math.floor(Date.now() / 1000) + 999 });
    const first = [];
    for (let i = 0; i < 3; i++) first.push((await fetch(`${a}/billing/${t}.json`)).status);
    expect(first).toEqual([200, 200, 429]);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await fetch(`${a}/billing/${t}.json`)).status).toBe(200);
  });

  it('keeps counting in memory only for a process that has no database at all', async () => {
    const noDatabase = () => Promise.reject(new Error('the billing page needs DATABASE_URL under `billing serve`'));
    const a = await instance({ perIp: 2 }, { db: noDatabase, limitStore: 'memory' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${a}/billing/${token()}`)).status);
    expect(statuses).toEqual([503, 503, 429]);
  });
});

describe('a database that cannot be reached', () => {
  it("answers the page's 503 with its headers, never a 500 from the limiter", async () => {
    const down = createDataSource({ url: 'postgres://billing@127.0.0.1:1/unreachable', poolSize: 1 });
    const a = await instance({ perIp: 1, perToken: 1 }, { db: () => down.initialize().then((ds) => ds.manager) });
    for (const path of [`/billing/${token()}`, `/billing/${token()}.json`, '/billing/not-a-token']) {
      const res = await fetch(`${a}${path}`);
      // Uncounted (the store cannot count), so never 429 either; a bad link is still the 404 it always is.
      expect(res.status).toBe(path === '/billing/not-a-token' ? 404 : 503);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    }
  });
});

describe('pruning', () => {
  it('deletes the counters whose window has ended, and only those', async () => {
    const ended = `ip:${uid('ended')}`;
    const running = `ip:${uid('running')}`;
    await countHit(db.ds.manager, ended, 0.2);
    await countHit(db.ds.manager, running, 3600);
    await new Promise((r) => setTimeout(r, 300));
    expect(await pruneExpiredHits(db.ds.manager, new Date())).toBeGreaterThanOrEqual(1);
    // The ended key starts afresh; the running one kept its count.
    expect((await countHit(db.ds.manager, ended, 60)).hits).toBe(1);
    expect((await countHit(db.ds.manager, running, 60)).hits).toBe(2);
  });
});
