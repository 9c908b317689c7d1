import express from 'express';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { billingPageRouter } from '../../src/billing-page/routes';
import { signPortalToken, type PortalClaims } from '../../src/billing-page/token';
import { upsertContact } from '../../src/db/billing-contacts';
import { serveApp } from '../ingest/harness';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { uid } from '../support/stripe-events';
import { seedInvoices, walletEntry } from './seed';
import { PORTAL_SECRET, startPageServer, type PageServer } from './server';

jest.setTimeout(120_000);

let db: TestDatabase;
let server: PageServer;
const acme = { customer: uid('cus'), name: 'Acme GPU Labs', email: 'ops@acme.test' };
const connected = { customer: uid('cus'), name: 'Connected Co', email: 'ap@connected.test', account: 'acct_1PgcA2B7WZ01zgkW' };
let ids: Record<string, string> = {};

const token = (c: Partial<PortalClaims> = {}) =>
  signPortalToken({ customerId: acme.customer, accountId: null, role: 'admin', expiresAt: Math.floor(Date.now() / 1000) + 3600, ...c }, PORTAL_SECRET);

beforeAll(async () => {
  db = await createTestDatabase(4);
  const kinds = ['open', 'overdue', 'paid', 'void', 'uncollectible', 'draft', 'deleted'] as const;
  const made = await seedInvoices(db.ds, acme, kinds.map((kind, i) => ({ kind, ageSeconds: (40 - i) * 86_400 })));
  ids = Object.fromEntries(kinds.map((k, i) => [k, made[i]!]));
  await seedInvoices(db.ds, connected, [{ kind: 'open' }]);
  await walletEntry(db.ds, { customer: acme.customer, currency: 'usd', amount: 5000 });
  server = await startPageServer(db.ds);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.origin}${path}`, { headers, redirect: 'manual' });

describe('GET /billing/<token>', () => {
  it('answers the page with headers that keep the token and the page to the viewer', async () => {
    const res = await get(`/billing/${token()}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toMatch(/script-src/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('set-cookie')).toBeNull();
    const html = await res.text();
    expect(html).not.toMatch(/<script/i);
    // The one inline stylesheet is the one the CSP's hash allows.
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(csp).toContain(`'sha256-${createHash('sha256').update(css).digest('base64')}'`);
  });

  it('answers the same content as JSON', async () => {
    const res = await get(`/billing/${token()}.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const page = (await res.json()) as any;
    expect(page.customer).toEqual({ id: acme.customer, name: 'Acme GPU Labs' });
    expect(page.contact).toEqual({ invoice_email: 'ops@acme.test', editable: false });
    expect(page.overview).toEqual([
      expect.objectContaining({ currency: 'usd', wallet_balance: expect.objectContaining({ cents: '5000', formatted: '$50.00' }), amount_due: expect.objectContaining({ cents: '5000' }), open_invoices: 2 }),
    ]);
    const byId = Object.fromEntries(page.invoices.map((i: any) => [i.id, i]));
    expect(Object.keys(byId).sort()).toEqual([ids['open'], ids['overdue'], ids['paid'], ids['void'], ids['uncollectible']].sort());
    const actions = (id: string) => byId[id].actions.map((a: any) => a.kind);
    expect(actions(ids['open']!)).toEqual(['pay_now', 'download']);
    expect(actions(ids['overdue']!)).toEqual(['pay_overdue', 'download']);
    expect(actions(ids['paid']!)).toEqual(['download', 'receipt']);
    expect(actions(ids['void']!)).toEqual(['download']);
    expect(actions(ids['uncollectible']!)).toEqual(['pay_now', 'download']);
    expect(byId[ids['uncollectible']!].actions[0].url).toBe(`https://invoice.stripe.com/i/acct_test/${ids['uncollectible']}`);
    expect(byId[ids['paid']!].actions[1].url).toMatch(/^https:\/\/pay\.stripe\.com\/receipts\//);
    expect(byId[ids['overdue']!]).toMatchObject({ number: expect.any(String), status: 'open', display_status: 'overdue', days_overdue: 5 });
    expect(byId[ids['open']!].amounts.due).toEqual({ cents: '2500', amount: '25.00', currency: 'usd', formatted: '$25.00' });
    expect(page.overdue.map((i: any) => i.id)).toEqual([ids['overdue']]);
    // Newest first: the invoices were made a day apart, the open one first.
    expect(page.invoices.map((i: any) => i.id)).toEqual([ids['uncollectible'], ids['void'], ids['paid'], ids['overdue'], ids['open']]);
  });

  it('gives a member link the page without pay actions', async () => {
    const page = (await (await get(`/billing/${token({ role: 'member' })}.json`)).json()) as any;
    const kinds = page.invoices.flatMap((i: any) => i.actions.map((a: any) => a.kind));
    expect(kinds).not.toContain('pay_now');
    expect(kinds).not.toContain('pay_overdue');
    expect(kinds).toContain('download');
    expect(page.overdue[0].actions.map((a: any) => a.kind)).toEqual(['download']);
  });

  it('shows a connected account\'s customer to its own link only', async () => {
    const own = signPortalToken({ customerId: connected.customer, accountId: connected.account, role: 'admin', expiresAt: Math.floor(Date.now() / 1000) + 60 }, PORTAL_SECRET);
    const page = (await (await get(`/billing/${own}.json`)).json()) as any;
    expect(page.invoices).toHaveLength(1);
    expect(page.customer.name).toBe('Connected Co');
  });

  describe('every bad link gets the same 404', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<[string, () => string]> = [
      ['expired', () => token({ expiresAt: now() - 1 })],
      ['tampered', () => { const t = token(); return `${Buffer.from(JSON.stringify({ c: connected.customer, r: 'admin', e: now() + 60 })).toString('base64url')}.${t.split('.')[1]}`; }],
      ['signed with another secret', () => signPortalToken({ customerId: acme.customer, accountId: null, role: 'admin', expiresAt: now() + 60 }, 'another-secret-0123456789abcdefghijklmnop')],
      ['garbage', () => 'not-a-token'],
      ['another account\'s customer, named as the platform\'s', () => token({ customerId: connected.customer })],
      ['a customer named under another account', () => token({ accountId: 'acct_1OtherAccount' })],
      ['a connected customer under a wrong account', () => token({ customerId: connected.customer, accountId: 'acct_1OtherAccount' })],
    ];

    it.each(cases)('%s (HTML)', async (_name, make) => {
      const [good, bad] = await Promise.all([get('/billing/not-a-token'), get(`/billing/${make()}`)]);
      expect(bad.status).toBe(404);
      expect(bad.headers.get('cache-control')).toBe('no-store');
      expect(bad.headers.get('referrer-policy')).toBe('no-referrer');
      expect(bad.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const body = await bad.text();
      expect(body).toBe(await good.text());
      expect(body).not.toMatch(/expired|signature|secret|customer|account/i);
    });

    it.each(cases)('%s (JSON)', async (_name, make) => {
      const res = await get(`/billing/${make()}.json`);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('{"error":"Not found"}');
    });

    it('answers the same for other paths under /billing/', async () => {
      const res = await get('/billing/a/b');
      expect(res.status).toBe(404);
      expect(await res.text()).toBe(await (await get('/billing/not-a-token')).text());
    });
  });

  it('lists 20 invoices, newest first, with a link to 20 more', async () => {
    const many = { customer: uid('cus'), name: 'Many Invoices Ltd' };
    const made = await seedInvoices(db.ds, many, Array.from({ length: 23 }, (_, i) => ({ kind: 'paid' as const, ageSeconds: (100 - i) * 3600 })));
    const t = token({ customerId: many.customer });
    const first = (await (await get(`/billing/${t}.json`)).json()) as any;
    expect(first.invoices).toHaveLength(20);
    expect(first.invoices[0].id).toBe(made[22]);
    expect(first).toMatchObject({ has_more: true, next_limit: 40 });
    const html = await (await get(`/billing/${t}`)).text();
    expect(html).toContain('href="?limit&#x3D;40"');
    const all = (await (await get(`/billing/${t}.json?limit=40`)).json()) as any;
    expect(all.invoices).toHaveLength(23);
    expect(all).toMatchObject({ has_more: false, next_limit: null });
  });

  it('shows a customer known only by its billing contact, with the contact\'s address', async () => {
    const quiet = uid('cus');
    await upsertContact(db.ds.manager, quiet, { invoiceEmail: 'invoices@quiet.test' });
    const page = (await (await get(`/billing/${token({ customerId: quiet })}.json`)).json()) as any;
    expect(page).toMatchObject({ invoices: [], overdue: [], overview: [], contact: { invoice_email: 'invoices@quiet.test' } });
  });

  it('writes dates in the viewer\'s language, English when it has none', async () => {
    const en = (await (await get(`/billing/${token()}.json`)).json()) as any;
    const de = (await (await get(`/billing/${token()}.json`, { 'accept-language': 'de-DE,de;q=0.9' })).json()) as any;
    expect(en.locale).toBe('en');
    expect(de.locale).toBe('de-DE');
    expect(en.invoices[0].date_formatted).toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d{4}$/);
    expect(de.invoices[0].date_formatted).toMatch(/^\d{2}\.\d{2}\.\d{4}$/);
  });
});

describe('embedding', () => {
  it('lets the configured origins frame the page, and says so in frame-ancestors only', async () => {
    const framed = await startPageServer(db.ds, { frameAncestors: ['https://app.example.com', 'https://*.example.org'] });
    try {
      const res = await fetch(`${framed.origin}/billing/${token()}`);
      expect(res.headers.get('content-security-policy')).toContain('frame-ancestors https://app.example.com https://*.example.org');
      expect(res.headers.get('x-frame-options')).toBeNull();
    } finally {
      await framed.close();
    }
  });

  it("maps 'self' to X-Frame-Options SAMEORIGIN", async () => {
    const framed = await startPageServer(db.ds, { frameAncestors: ["'self'"] });
    try {
      const res = await fetch(`${framed.origin}/billing/${token()}`);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    } finally {
      await framed.close();
    }
  });
});

// The limits (per token, per address, shared by every instance) are in rate-limit-shared.test.ts.

describe('paths that do not decode', () => {
  const MALFORMED = ['/billing/%E0%A4%A', '/billing/%E0%A4%A.json', '/billing/%', '/billing/abc%ZZ'];

  it.each(MALFORMED)('%s answers the same 404 as any bad link, from the router alone', async (path) => {
    const res = await get(path);
    const same = await get(path.endsWith('.json') ? '/billing/not-a-token.json' : '/billing/not-a-token');
    expect(res.status).toBe(404);
    expect(Object.fromEntries(res.headers)).toMatchObject({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    expect(res.headers.get('content-security-policy')).toBe(same.headers.get('content-security-policy'));
    expect(await res.text()).toBe(await same.text());
  });

  it.each(MALFORMED)('%s never reaches the webhook app\'s error handler', async (path) => {
    const app = await serveApp({
      // The webhook is not called here; a queue that refuses shows it if it were.
      queue: { send: () => Promise.reject(new Error('no webhook in this test')) },
      billingPage: {
        db: () => Promise.resolve(db.ds.manager),
        secrets: () => Promise.resolve([PORTAL_SECRET]),
        frameAncestors: ["'none'"],
        rateLimits: { windowSeconds: 60, perIp: 10_000, perToken: 10_000 },
        logger: pino({ level: 'silent' }),
      },
    });
    try {
      const [res, same] = await Promise.all([
        fetch(`${app.baseUrl}${path}`),
        fetch(`${app.baseUrl}${path.endsWith('.json') ? '/billing/not-a-token.json' : '/billing/not-a-token'}`),
      ]);
      expect(res.status).toBe(404);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.text()).toBe(await same.text());
    } finally {
      await app.close();
    }
  });
});

describe('a page that fails', () => {
  it("answers the page's 503 with its headers, not the webhook's 500", async () => {
    const app = express();
    app.use(
      billingPageRouter({
        db: () => Promise.resolve(db.ds.manager),
        secrets: () => Promise.resolve([PORTAL_SECRET]),
        frameAncestors: ["'none'"],
        rateLimits: { windowSeconds: 60, perIp: 10_000, perToken: 10_000 },
        logger: pino({ level: 'silent' }),
        // A clock that throws makes billingPage itself reject, past its own 503 paths.
        now: () => {
          throw new Error('clock broken');
        },
      }),
    );
    app.use(((_err, _req, res, _next) => res.status(500).json({ error: 'Internal error' })) as express.ErrorRequestHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const html = await fetch(`${origin}/billing/${token()}`);
      expect(html.status).toBe(503);
      expect(html.headers.get('cache-control')).toBe('no-store');
      expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const json = await fetch(`${origin}/billing/${token()}.json`);
      expect(json.status).toBe(503);
      expect(await json.json()).toEqual({ error: 'Unavailable, try again shortly' });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
