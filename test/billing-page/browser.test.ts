/**
 * The billing page in a real browser (Debian's chromium through playwright-core): what a customer
 * sees and can click, on a phone and a desktop, with a screenshot of each case under
 * test-results/billing-page/. UPDATE_README_SCREENSHOT=1 also writes docs/billing-page.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { signPortalToken, type PortalClaims } from '../../src/billing-page/token';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { uid } from '../support/stripe-events';
import { launchChromium, SCREENSHOTS, type Browser } from './browser';
import { seedInvoices, walletEntry } from './seed';
import { PORTAL_SECRET, startPageServer, type PageServer } from './server';

jest.setTimeout(180_000);

const HOSTILE_NAME = '<script>alert(1)</script><img src=x onerror=alert(2)> & Co';

let db: TestDatabase;
let server: PageServer;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];

const acme = { customer: uid('cus'), name: HOSTILE_NAME, email: 'ops@acme.test' };
const settled = { customer: uid('cus'), name: 'Settled Ltd', email: 'ap@settled.test' };
const yen = { customer: uid('cus'), name: 'Tokyo Render 株式会社', email: 'keiri@tokyo.test' };
const dinar = { customer: uid('cus'), name: 'Gulf Compute', email: 'finance@gulf.test' };
const ids: Record<string, string> = {};

const link = (c: { customer: string }, o: Partial<PortalClaims> = {}) =>
  `${server.origin}/billing/${signPortalToken({ customerId: c.customer, accountId: null, role: 'admin', expiresAt: Math.floor(Date.now() / 1000) + 3600, ...o }, PORTAL_SECRET)}`;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function open(url: string, name: string, viewport = { width: 1280, height: 900 }): Promise<number> {
  await page.setViewportSize(viewport);
  const res = await page.goto(url);
  await shot(name);
  return res!.status();
}

const row = (id: string) => page.locator(`tr[data-invoice="${id}"]`);

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  db = await createTestDatabase(4);
  const kinds = ['open', 'overdue', 'paid', 'void', 'uncollectible', 'draft', 'deleted'] as const;
  const made = await seedInvoices(db.ds, acme, kinds.map((kind, i) => ({ kind, ageSeconds: (40 - i) * 86_400, amount: 120_000 + i * 1000 })));
  kinds.forEach((k, i) => (ids[k] = made[i]!));
  await walletEntry(db.ds, { customer: acme.customer, currency: 'usd', amount: 25_000 });
  await seedInvoices(db.ds, settled, [{ kind: 'paid' }, { kind: 'void' }]);
  [ids['yen']] = await seedInvoices(db.ds, yen, [{ kind: 'open', currency: 'jpy', amount: 1500 }]);
  [ids['dinar']] = await seedInvoices(db.ds, dinar, [{ kind: 'overdue', currency: 'kwd', amount: 1500 }]);
  server = await startPageServer(db.ds);
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
});

describe('the billing page in chromium', () => {
  it('shows the overview, the contact and the overdue section for a customer who owes', async () => {
    expect(await open(link(acme), 'admin-desktop')).toBe(200);
    await expect(page.getByRole('main').count()).resolves.toBe(1);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Billing');
    expect(await page.getByTestId('wallet-balance').textContent()).toBe('$250.00');
    expect(await page.getByTestId('invoice-email').textContent()).toBe('ops@acme.test');
    const overdue = page.getByTestId('overdue');
    await expect(overdue.isVisible()).resolves.toBe(true);
    expect(await overdue.textContent()).toContain('5 days overdue');
    const pay = overdue.getByRole('link', { name: /^Pay overdue/ });
    expect(await pay.getAttribute('href')).toBe(`https://invoice.stripe.com/i/acct_test/${ids['overdue']}`);
  });

  it.each([
    ['open', 'Open', ['Pay now', 'Download']],
    ['overdue', 'Overdue', ['Pay overdue', 'Download']],
    ['paid', 'Paid', ['Download', 'Receipt']],
    ['void', 'Void', ['Download']],
    ['uncollectible', 'Uncollectible', ['Pay now', 'Download']],
  ])('lists the %s invoice with its pill and actions', async (kind, pill, actions) => {
    await open(link(acme), `state-${kind}`);
    const r = row(ids[kind]!);
    expect(await r.getByTestId('pill').textContent()).toBe(pill);
    // The visible label is the link's first text; the rest names the invoice for screen readers.
    const names = await r.getByRole('link').evaluateAll((els) => els.map((e) => e.childNodes[0]!.textContent!.trim()));
    expect(names).toEqual(actions);
    // Every action has a name that says which invoice it is for.
    for (const a of await r.getByRole('link').all()) expect(await a.evaluate((e) => e.textContent)).toMatch(/INV-/);
    if (kind === 'paid') expect(await r.getByRole('link', { name: /^Receipt/ }).getAttribute('href')).toMatch(/^https:\/\/pay\.stripe\.com\/receipts\//);
    if (kind === 'uncollectible') expect(await r.getByRole('link', { name: /^Pay now/ }).getAttribute('href')).toContain(ids['uncollectible']!);
  });

  it('does not list drafts or deleted invoices', async () => {
    await open(link(acme), 'no-drafts');
    expect(await row(ids['draft']!).count()).toBe(0);
    expect(await row(ids['deleted']!).count()).toBe(0);
    expect(await page.locator('tbody tr').count()).toBe(5);
  });

  it('has no overdue section when nothing is past due', async () => {
    await open(link(settled), 'no-overdue');
    expect(await page.getByTestId('overdue').count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Overdue' }).count()).toBe(0);
    expect(await page.getByTestId('wallet-balance').count()).toBe(0);
  });

  it('shows a member the same page without Pay now or Pay overdue', async () => {
    await open(link(acme, { role: 'member' }), 'member-desktop');
    expect(await page.getByRole('link', { name: /^Pay/ }).count()).toBe(0);
    expect(await page.getByRole('link', { name: /^Download/ }).count()).toBeGreaterThan(0);
    expect(await page.getByTestId('overdue').isVisible()).toBe(true);
    expect(await page.locator('tbody tr').count()).toBe(5);
  });

  it('reads a customer name with HTML in it as text, and runs none of it', async () => {
    await open(link(acme), 'hostile-name');
    expect(await page.getByTestId('customer-name').textContent()).toBe(HOSTILE_NAME);
    expect(await page.locator('main img, body script').count()).toBe(0);
    expect(await page.title()).toBe(`Billing · ${HOSTILE_NAME}`);
    expect(dialogs).toEqual([]);
  });

  it('writes JPY without decimals and KWD with three', async () => {
    await open(link(yen), 'jpy');
    expect(await row(ids['yen']!).locator('td.num').textContent()).toBe('¥1,500');
    await open(link(dinar), 'kwd');
    expect((await row(ids['dinar']!).locator('td.num').textContent())!.replace(/\u00a0/g, ' ')).toBe('KWD 1.500');
    expect((await page.getByTestId('amount-due').textContent())!.replace(/\u00a0/g, ' ')).toBe('KWD 1.500');
  });

  it('writes dates in the browser\'s language', async () => {
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'de-DE,de;q=0.9' });
    try {
      await open(link(acme), 'german-dates');
      expect(await row(ids['open']!).locator('time').textContent()).toMatch(/^\d{2}\.\d{2}\.\d{4}$/);
      expect(await page.locator('html').getAttribute('lang')).toBe('de-DE');
    } finally {
      await page.setExtraHTTPHeaders({});
    }
  });

  it('fits a 375 px phone without horizontal scrolling', async () => {
    for (const [name, url] of [['phone-admin', link(acme)], ['phone-member', link(acme, { role: 'member' })], ['phone-kwd', link(dinar)]] as const) {
      await open(url, name, { width: 375, height: 812 });
      // Runs in the page: `document` is the browser's (the tests are compiled without the DOM types).
      const { scroll, client } = await page.evaluate(() => {
        const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
        return { scroll: root.scrollWidth, client: root.clientWidth };
      });
      expect(scroll).toBeLessThanOrEqual(client);
      // The actions stay reachable on a phone.
      if (name === 'phone-admin') expect(await page.getByRole('link', { name: /^Pay overdue/ }).first().isVisible()).toBe(true);
    }
  });

  it.each([
    ['expired', () => link(acme, { expiresAt: Math.floor(Date.now() / 1000) - 60 })],
    ['tampered', () => { const url = link(acme); return url.slice(0, -3) + (url.endsWith('AAA') ? 'BBB' : 'AAA'); }],
  ])('answers an %s link with the plain 404 page', async (name, make) => {
    expect(await open(make(), `not-found-${name}`)).toBe(404);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Page not found');
    expect(await page.locator('body').textContent()).not.toContain(acme.customer);
  });

  it('loads nothing but the page itself (no script, no image, no font)', async () => {
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(link(acme));
    page.removeAllListeners('request');
    expect(requests).toHaveLength(1);
  });

  if (process.env['UPDATE_README_SCREENSHOT'] === '1') {
    it('writes the README screenshot', async () => {
      const demo = { customer: uid('cus'), name: 'Acme GPU Labs', email: 'billing@acme-gpu.example' };
      await seedInvoices(db.ds, demo, [
        { kind: 'paid', ageSeconds: 70 * 86_400, amount: 48_000, number: 'ACME-0041' },
        { kind: 'void', ageSeconds: 55 * 86_400, amount: 9_900, number: 'ACME-0042' },
        { kind: 'uncollectible', ageSeconds: 50 * 86_400, amount: 3_200, number: 'ACME-0043' },
        { kind: 'overdue', ageSeconds: 40 * 86_400, amount: 125_000, number: 'ACME-0044', daysOverdue: 9 },
        { kind: 'paid', ageSeconds: 20 * 86_400, amount: 60_000, number: 'ACME-0045' },
        { kind: 'open', ageSeconds: 2 * 86_400, amount: 74_550, number: 'ACME-0046' },
      ]);
      await walletEntry(db.ds, { customer: demo.customer, currency: 'usd', amount: 150_000 });
      await page.setViewportSize({ width: 1100, height: 900 });
      await page.goto(link(demo));
      await page.screenshot({ path: path.resolve(__dirname, '../../docs/billing-page.png'), fullPage: true });
    });
  }
});
