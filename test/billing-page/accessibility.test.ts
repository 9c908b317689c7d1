/**
 * The billing page for people who do not see it, or not well, or do not use a mouse, read in a
 * real browser (Debian's chromium through playwright-core): its landmarks and headings, the
 * accessible name of every link, WCAG AA contrast of every visible text as chromium computed it,
 * reflow on narrow screens and at 200% zoom, and the keyboard. A customer with an invoice in
 * every state and a wallet entry; a screenshot of each case under test-results/billing-page/.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { signPortalToken } from '../../src/billing-page/token';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { uid } from '../support/stripe-events';
import { actionLinks, contrastAudit, definitionListStrays, focused, reflow, structure, type ContrastCheck, type Focused } from './a11y-dom';
import { ariaTree, nodesOf, topRoles } from './a11y-tree';
import { launchChromium, SCREENSHOTS, type Browser } from './browser';
import { seedInvoices, walletEntry } from './seed';
import { PORTAL_SECRET, startPageServer, type PageServer } from './server';

jest.setTimeout(120_000);

const DAY = 86_400;
const DESKTOP = { width: 1280, height: 900 };
const KINDS = ['open', 'overdue', 'paid', 'void', 'uncollectible'] as const;
type Kind = (typeof KINDS)[number];

let db: TestDatabase;
let server: PageServer;
let browser: Browser;
let page: Page;

const acme = { customer: uid('cus'), name: 'Acme GPU Labs', email: 'ops@acme.test' };
/** More invoices than the first page lists: the page offers "Show more invoices". */
const many = { customer: uid('cus'), name: 'Many Invoices Ltd', email: 'ap@many.test' };
const ids = {} as Record<Kind, string>;
const numberOf = (kind: Kind) => `INV-${ids[kind].slice(-6).toUpperCase()}`;
const hosted = (kind: Kind) => `https://invoice.stripe.com/i/acct_test/${ids[kind]}`;
const pdf = (kind: Kind) => `https://pay.stripe.com/invoice/acct_test/${ids[kind]}/pdf`;
/** Pay overdue and Download in the overdue section, then 2 + 1 + 2 + 2 + 2 in the list (void has Download only). */
const ACTIONS = 11;

const link = (c: { customer: string }) =>
  `${server.origin}/billing/${signPortalToken({ customerId: c.customer, accountId: null, role: 'admin', expiresAt: Math.floor(Date.now() / 1000) + 3600 }, PORTAL_SECRET)}`;

async function show(c: { customer: string }, viewport = DESKTOP): Promise<void> {
  await page.setViewportSize(viewport);
  const res = await page.goto(link(c));
  expect(res!.status()).toBe(200);
}

const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `a11y-${name}.png`), fullPage: true });

/** Tab from the top of the page until focus leaves it, recording each stop. */
async function tabStops(): Promise<Focused[]> {
  const stops: Focused[] = [];
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(focused);
    if (f === null || (stops.length > 0 && f.href === stops[0]!.href && f.tag === stops[0]!.tag)) break;
    stops.push(f);
  }
  return stops;
}

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const seeded = (async () => {
    db = await createTestDatabase(4);
    const voids = Array.from({ length: 21 }, (_, i) => ({ kind: 'void' as const, ageSeconds: (30 - i) * DAY }));
    const [made] = await Promise.all([
      seedInvoices(db.ds, acme, KINDS.map((kind, i) => ({ kind, ageSeconds: (40 - i) * DAY, amount: 120_000 + i * 1000 }))),
      walletEntry(db.ds, { customer: acme.customer, currency: 'usd', amount: 25_000 }),
      // Each invoice is its own row: three writers at a time are as good as one.
      ...[0, 1, 2].map((k) => seedInvoices(db.ds, many, voids.filter((_, i) => i % 3 === k))),
    ]);
    KINDS.forEach((k, i) => (ids[k] = made[i]!));
    server = await startPageServer(db.ds);
  })();
  [browser] = await Promise.all([launchChromium(), seeded]);
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await db?.drop();
});

describe('landmarks and headings', () => {
  it('has one main, a banner and a footer, and each section is named by its own h2', async () => {
    await show(acme);
    await shot('landmarks');
    const s = await page.evaluate(structure);
    expect(s.landmarks).toEqual({ main: 1, header: 1, footer: 1 });
    const tree = await ariaTree(page);
    // The skip link comes first, then the page's three landmarks, nothing outside them.
    expect(topRoles(tree)).toEqual(['link', 'banner', 'main', 'contentinfo']);
    expect(nodesOf(tree, 'main')).toHaveLength(1);
    expect(nodesOf(nodesOf(tree, 'banner'), 'heading').map((h) => [h.level, h.name])).toEqual([[1, 'Billing']]);
    const names = ['Billing overview', 'Payment & invoicing', 'Overdue', 'Recent invoices'];
    expect(nodesOf(nodesOf(tree, 'main'), 'region').map((r) => r.name)).toEqual(names);
    expect(s.sections).toEqual([
      { labelledby: 'overview-h', heading: names[0], tag: 'h2', inside: true },
      { labelledby: 'payment-h', heading: names[1], tag: 'h2', inside: true },
      { labelledby: 'overdue-h', heading: names[2], tag: 'h2', inside: true },
      { labelledby: 'invoices-h', heading: names[3], tag: 'h2', inside: true },
    ]);
  });

  it('has one h1, then headings in order with no level skipped', async () => {
    for (const c of [acme, many]) {
      await show(c);
      if (c === acme) await shot('headings');
      const { headings } = await page.evaluate(structure);
      expect(headings.filter((h) => h.level === 1)).toEqual([{ level: 1, text: 'Billing' }]);
      expect(headings[0]).toEqual({ level: 1, text: 'Billing' });
      const skips = headings.slice(1).filter((h, i) => h.level > headings[i]!.level + 1);
      expect(skips).toEqual([]);
      expect(headings.map((h) => h.text)).toEqual(
        c === acme ? ['Billing', 'Billing overview', 'Payment & invoicing', 'Overdue', 'Recent invoices'] : ['Billing', 'Billing overview', 'Payment & invoicing', 'Recent invoices'],
      );
    }
  });

  // HTML allows only dt/dd groups (or divs wrapping them) in a dl (WCAG 1.3.1, axe rule definition-list).
  it('gives the overview cards description lists of dt/dd pairs only', async () => {
    await show(acme);
    await shot('definition-lists');
    expect(await page.evaluate(definitionListStrays)).toEqual([]);
  });
});

describe('names of links and buttons', () => {
  it('names every link for what it does and for which invoice; there are no buttons', async () => {
    await show(acme);
    await shot('link-names');
    const links = nodesOf(await ariaTree(page), 'link').map((l) => [l.name, l.url]);
    const actions = (kind: Kind, ...which: Array<'pay_now' | 'pay_overdue' | 'download' | 'receipt'>) =>
      which.map((a) => {
        if (a === 'pay_now') return [`Pay now ${numberOf(kind)} (opens in a new tab)`, hosted(kind)];
        if (a === 'pay_overdue') return [`Pay overdue ${numberOf(kind)} (opens in a new tab)`, hosted(kind)];
        if (a === 'download') return [`Download ${numberOf(kind)} (opens in a new tab)`, pdf(kind)];
        return [`Receipt ${numberOf(kind)} (opens in a new tab)`, expect.stringMatching(/^https:\/\/pay\.stripe\.com\/receipts\/payment\/ch_/)];
      });
    expect(links).toEqual([
      ['Skip to recent invoices', '#invoices-h'],
      // The overdue section, then the list, newest first.
      ...actions('overdue', 'pay_overdue', 'download'),
      ...actions('uncollectible', 'pay_now', 'download'),
      ...actions('void', 'download'),
      ...actions('paid', 'download', 'receipt'),
      ...actions('overdue', 'pay_overdue', 'download'),
      ...actions('open', 'pay_now', 'download'),
    ]);
    // One name, one destination: the overdue invoice's links repeat in its section and the list, to the same pages.
    const destinations = new Map<string, Set<string>>();
    for (const [name, url] of links) destinations.set(name!, (destinations.get(name!) ?? new Set()).add(url!));
    expect([...destinations].filter(([, urls]) => urls.size > 1)).toEqual([]);
    // What a screen-reader user finds by name is the one link a sighted user sees in that row.
    const pay = page.getByRole('link', { name: `Pay now ${numberOf('open')} (opens in a new tab)`, exact: true });
    expect(await pay.count()).toBe(1);
    expect(await pay.getAttribute('href')).toBe(hosted('open'));
    expect(await page.locator(`tr[data-invoice="${ids.open}"]`).getByRole('link', { name: `Pay now ${numberOf('open')} (opens in a new tab)`, exact: true }).count()).toBe(1);
    expect(await page.getByRole('button').count()).toBe(0);
  });

  it('names the link to more invoices', async () => {
    await show(many);
    await shot('link-names-show-more');
    const more = page.getByRole('link', { name: 'Show more invoices', exact: true });
    expect(await more.count()).toBe(1);
    expect(await more.getAttribute('href')).toBe('?limit=40');
  });

  it('says so on every link that opens a new tab', async () => {
    await show(acme);
    await shot('new-tab-links');
    const newTab = await Promise.all((await page.locator('a[target="_blank"]').all()).map((a) => a.getAttribute('href')));
    expect(newTab.length).toBeGreaterThan(0);
    const silent = nodesOf(await ariaTree(page), 'link').filter((l) => newTab.includes(l.url!) && !/new (tab|window)/i.test(l.name ?? ''));
    expect(silent.map((l) => l.name)).toEqual([]);
  });
});

describe('colour contrast (WCAG AA: 4.5:1, 3:1 for large text)', () => {
  const failing = (checks: ContrastCheck[]) => checks.filter((c) => c.ratio < c.required);
  const texts = (checks: ContrastCheck[]) => new Set(checks.map((c) => c.text));

  it('holds for every visible text on a desktop: pills, actions, muted text, the overdue section, headings', async () => {
    await show(acme);
    await shot('contrast-desktop');
    const checks = await page.evaluate(contrastAudit);
    expect(failing(checks)).toEqual([]);
    // Every kind of text the page has was measured, not skipped as unseen.
    const seen = texts(checks);
    for (const t of ['Open', 'Overdue', 'Paid', 'Void', 'Uncollectible', 'Pay now', 'Pay overdue', 'Download', 'Receipt', 'Billing', 'Recent invoices', '1 invoice is past its due date.', '5 days overdue'])
      expect(seen).toContain(t);
    expect(checks.filter((c) => c.where.startsWith('span.pill')).map((c) => c.text).sort()).toEqual(['Open', 'Overdue', 'Paid', 'Uncollectible', 'Void']);
    expect(checks.some((c) => c.where === 'h2 in "Overdue"' && c.fg !== '#1f2933')).toBe(true);
    expect(checks.some((c) => c.where.includes('muted') && c.fg === '#52606d')).toBe(true);
    // The heading is the only large text: everything else is held to 4.5:1.
    expect(checks.filter((c) => c.required === 3).map((c) => c.text)).toEqual(['Billing']);
  });

  it('holds on a phone, for the field labels the list shows there, and for the skip link once focused', async () => {
    await show(acme, { width: 375, height: 812 });
    const checks = await page.evaluate(contrastAudit);
    expect(failing(checks)).toEqual([]);
    for (const t of ['Date:', 'Number:', 'Amount:']) expect(texts(checks)).toContain(t);
    await page.keyboard.press('Tab');
    await shot('contrast-phone-skip-link');
    const skip = (await page.evaluate(contrastAudit)).filter((c) => c.text === 'Skip to recent invoices');
    expect(skip).toHaveLength(1);
    expect(failing(skip)).toEqual([]);
  });

  // A focus indicator needs 3:1 against what is next to it (WCAG 1.4.11 non-text contrast).
  it('draws the focus ring of every action at 3:1 against its surroundings', async () => {
    await show(acme);
    const stops = (await tabStops()).filter((f) => f.action !== null);
    await page.keyboard.press('Shift+Tab');
    await shot('focus-ring-contrast');
    expect(stops.length).toBe((await page.evaluate(actionLinks)).length);
    const weak = stops.filter((f) => f.outlineContrast !== null && f.outlineContrast < 3).map((f) => `${f.text}: ${f.outlineContrast}:1`);
    expect(weak).toEqual([]);
  });
});

describe('reflow', () => {
  it.each([
    ['a 1280 px window at 200% zoom (640 CSS px)', 'zoom-200', { width: 640, height: 450 }],
    ['a 375 px phone', 'reflow-375', { width: 375, height: 812 }],
    ['320 CSS px (WCAG 1.4.10: 1280 px at 400%)', 'reflow-320', { width: 320, height: 568 }],
  ])('fits %s without horizontal scrolling, nothing cut off', async (_name, file, viewport) => {
    await show(acme, viewport);
    await shot(file);
    const r = await page.evaluate(reflow);
    expect(r.scrollWidth).toBeLessThanOrEqual(r.clientWidth);
    expect(r.cutOff).toEqual([]);
    // Every action is there to tap, within the width.
    const actions = await page.locator('a[data-action]').all();
    expect(actions).toHaveLength(ACTIONS);
    for (const a of actions) {
      const b = (await a.boundingBox())!;
      expect(b.width).toBeGreaterThan(0);
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(viewport.width);
    }
  });
});

describe('keyboard', () => {
  it('reaches every action link with Tab, in document order, each with a visible focus', async () => {
    await show(acme);
    const stops = await tabStops();
    // Back onto the last action, to show its focus.
    await page.keyboard.press('Shift+Tab');
    await shot('keyboard-focus');
    expect(stops[0]).toMatchObject({ tag: 'a', href: '#invoices-h' });
    const expected = await page.evaluate(actionLinks);
    expect(expected).toHaveLength(ACTIONS);
    expect(stops.filter((f) => f.action !== null).map((f) => ({ action: f.action, href: f.href, invoice: f.invoice }))).toEqual(expected);
    // Nothing else takes focus on the way: the skip link, then the actions.
    expect(stops).toHaveLength(expected.length + 1);
    const invisible = stops.filter((f) => !((f.outlineStyle !== 'none' && f.outlineWidth > 0) || f.boxShadow !== 'none')).map((f) => f.text);
    expect(invisible).toEqual([]);
    // The page scrolls each stop into view.
    expect(stops.filter((f) => !f.inViewport).map((f) => f.text)).toEqual([]);
  });

  it('shows the skip link when focused, and it takes focus to Recent invoices', async () => {
    await show(acme);
    await page.keyboard.press('Tab');
    await shot('skip-link');
    expect(await page.evaluate(focused)).toMatchObject({ href: '#invoices-h', inViewport: true });
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id)).toBe('invoices-h');
    await page.keyboard.press('Tab');
    // The first stop after the skip is the newest invoice's first action, past the overdue section.
    expect(await page.evaluate(focused)).toMatchObject({ action: 'pay_now', invoice: ids.uncollectible });
  });
});
