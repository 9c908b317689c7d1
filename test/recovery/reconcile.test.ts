/**
 * reconcile against real services: PostgreSQL, the Stripe API test server through the real SDK,
 * the consumer's own outbox effects. Stripe is authoritative: rows are overwritten, not merged.
 */
import type Stripe from 'stripe';
import { noticeEffects } from '../../src/effects/notice-effects';
import { applyEvent } from '../support/apply-event';
import { findInvoice } from '../../src/db/invoices';
import { reconcile, type ReconcileDeps, type ReconcileOptions } from '../../src/recovery/reconcile';
import { createStripeClient } from '../../src/stripe/api-client';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { event, uid } from '../support/stripe-events';
import { openInvoiceAt, paidInvoiceAt, transitions } from '../support/listed-invoices';
import { billing, deadUrl, requireBuild, warnings } from './cli-helper';

const KEY = 'sk_test_reconcile0123456789abcdef';
const NOW = Math.floor(Date.now() / 1000);
const CREATED = NOW - 7200;
const SINCE = new Date((NOW - 86_400) * 1000);
const effects = noticeEffects(ALL_NOTICES);

let db: TestDatabase;
let api: StripeApi;
let stripe: Stripe;

beforeAll(async () => {
  [db, api] = await Promise.all([createTestDatabase(), startStripeApi()]);
  stripe = createStripeClient({ secretKey: KEY, apiBase: api.url }, 'reconcile');
});
afterAll(async () => {
  await Promise.all([db?.drop(), api?.stop()]);
});
beforeEach(() => api.reset());

const openInvoice = (id: string, overrides: Record<string, unknown> = {}) => openInvoiceAt(id, CREATED, overrides);
const paidInvoice = (id: string) => paidInvoiceAt(id, CREATED);

/** Our row as the consumer wrote it from a webhook event carrying this invoice. */
async function rowFromEvent(inv: Record<string, unknown>, type = 'invoice.finalized', created = CREATED + 10) {
  await applyEvent(db.ds, JSON.stringify(event(type, inv, { created })), { effects: { notices: effects } });
}

const run = (o: Partial<ReconcileOptions> = {}, deps: Partial<ReconcileDeps> = {}) =>
  reconcile({ stripe, ds: db.ds, effects, logger: warnings().logger, backoff: { baseMs: 1 }, ...deps }, { since: SINCE, ...o });

async function notices(id: string): Promise<string[]> {
  const rows: { kind: string }[] = await db.ds.query(`SELECT kind FROM email_notices WHERE stripe_invoice_id = $1 ORDER BY kind`, [id]);
  return rows.map((r) => r.kind);
}

/** kind, status and why, as `billing notices list` shows them. */
async function noticeStates(id: string): Promise<string[]> {
  const rows: { kind: string; status: string; last_error: string | null }[] = await db.ds.query(
    `SELECT kind, status, last_error FROM email_notices WHERE stripe_invoice_id = $1 ORDER BY kind`,
    [id],
  );
  return rows.map((r) => [r.kind, r.status, r.last_error].filter(Boolean).join(' '));
}

async function updatedAt(id: string): Promise<Date> {
  const [r] = await db.ds.query(`SELECT updated_at FROM invoices WHERE stripe_invoice_id = $1`, [id]);
  return r.updated_at as Date;
}

describe('reconcile', () => {
  it('repairs a row that missed its payment, queues invoice_paid once however often it runs', async () => {
    const id = uid('in');
    await rowFromEvent(openInvoice(id));
    api.invoices.put(paidInvoice(id));

    const first = await run();
    expect(first).toMatchObject({ listed: 1, repaired: 1, unchanged: 0, inserted: 0, skipped: 0, invalid: 0 });
    expect(first.invoices).toEqual([
      {
        invoice: id,
        action: 'repaired',
        status: 'paid',
        differences: [
          { field: 'status', ours: 'open', stripe: 'paid' },
          { field: 'amountPaidCents', ours: 0, stripe: 2500 },
          { field: 'amountRemainingCents', ours: 2500, stripe: 0 },
          { field: 'paidAt', ours: null, stripe: CREATED + 60 },
        ],
      },
    ]);
    const row = await findInvoice(db.ds.manager, id);
    expect(row).toMatchObject({ status: 'paid', amountPaidCents: 2500, paidAt: CREATED + 60, lastEventId: expect.stringMatching(/^api_reconcile_\d+$/) });
    expect(row!.lastEventCreatedAt).toBeGreaterThanOrEqual(NOW);
    expect(await notices(id)).toEqual(['invoice_issued', 'invoice_paid']);

    expect(await run()).toMatchObject({ listed: 1, repaired: 0, unchanged: 1, invoices: [] });
    // The invoice.paid webhook arriving late changes nothing and sends nothing twice.
    await rowFromEvent(paidInvoice(id), 'invoice.paid', CREATED + 60);
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'paid', lastEventId: row!.lastEventId });
    expect(await notices(id)).toEqual(['invoice_issued', 'invoice_paid']);
  });

  it('takes a corrupted paid row back to open, which the merge never would, and queues no notice', async () => {
    const id = uid('in');
    await rowFromEvent(openInvoice(id));
    // A bug wrote paid; Stripe still says open.
    await db.ds.query(
      `UPDATE invoices SET status = 'paid', amount_paid_cents = 2500, amount_remaining_cents = 0, paid_at = to_timestamp($2) WHERE stripe_invoice_id = $1`,
      [id, CREATED + 99],
    );
    api.invoices.put(openInvoice(id));
    const result = await run();
    expect(result.invoices[0]).toMatchObject({ action: 'repaired', differences: expect.arrayContaining([{ field: 'status', ours: 'paid', stripe: 'open' }]) });
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'open', amountPaidCents: 0, amountRemainingCents: 2500, paidAt: null });
    expect(await notices(id)).toEqual(['invoice_issued']);
  });

  it('inserts a missing row as a baseline: the notices its state implies are recorded, none is sent', async () => {
    const id = uid('in');
    api.invoices.put(paidInvoice(id));
    const result = await run();
    expect(result).toMatchObject({ inserted: 1, invoices: [{ invoice: id, action: 'inserted', status: 'paid', differences: [] }] });
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'paid', currency: 'eur', amountCents: 2500, deletedAt: null });
    expect(await noticeStates(id)).toEqual(['invoice_issued skipped imported', 'invoice_paid skipped imported']);
  });

  it('queues the notice of a transition it repairs on a known row, as pending', async () => {
    const id = uid('in');
    await rowFromEvent(openInvoice(id));
    api.invoices.put(paidInvoice(id));
    await run();
    expect(await noticeStates(id)).toEqual(['invoice_issued pending', 'invoice_paid pending']);
  });

  it('records a repaired transition older than NOTICE_MAX_EVENT_AGE_HOURS as stale: no receipt days late', async () => {
    const id = uid('in');
    const created = NOW - 10 * 86_400;
    await rowFromEvent(openInvoice(id, { created, status_transitions: transitions({ finalized_at: created }) }), 'invoice.finalized', created);
    api.invoices.put(
      openInvoice(id, { created, status: 'paid', amount_paid: 2500, amount_remaining: 0, status_transitions: transitions({ finalized_at: created, paid_at: NOW - 5 * 86_400 }) }),
    );
    await run({ since: new Date((created - 60) * 1000) });
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'paid' });
    expect(await noticeStates(id)).toEqual(['invoice_issued skipped stale', 'invoice_paid skipped stale']);
  });

  it('leaves a row that agrees with Stripe untouched', async () => {
    const id = uid('in');
    await rowFromEvent(openInvoice(id));
    const before = await findInvoice(db.ds.manager, id);
    const stamp = await updatedAt(id);
    api.invoices.put(openInvoice(id));
    expect(await run()).toMatchObject({ listed: 1, unchanged: 1, invoices: [] });
    expect(await findInvoice(db.ds.manager, id)).toEqual(before);
    expect(await updatedAt(id)).toEqual(stamp);
  });

  it('reports on a dry run and writes nothing', async () => {
    const drifted = uid('in');
    const missing = uid('in');
    await rowFromEvent(openInvoice(drifted));
    const before = await findInvoice(db.ds.manager, drifted);
    api.invoices.put(paidInvoice(drifted), openInvoice(missing));
    const result = await run({ dryRun: true });
    expect(result).toMatchObject({ dryRun: true, listed: 2, repaired: 1, inserted: 1 });
    expect(await findInvoice(db.ds.manager, drifted)).toEqual(before);
    expect(await findInvoice(db.ds.manager, missing)).toBeNull();
    expect(await notices(drifted)).toEqual(['invoice_issued']);
    expect(await notices(missing)).toEqual([]);
  });

  it('skips a row that changed after Stripe was asked, and reports what differs', async () => {
    const id = uid('in');
    const t = NOW - 100;
    await rowFromEvent(openInvoice(id, { metadata: { from: 'webhook' } }), 'invoice.updated', t);
    api.invoices.put(openInvoice(id));
    const result = await run({}, { nowSeconds: () => t });
    expect(result).toMatchObject({ skipped: 1, invoices: [{ action: 'skipped', differences: [{ field: 'metadata' }] }] });
    expect((await findInvoice(db.ds.manager, id))?.metadata).toEqual({ from: 'webhook' });
  });

  it('pages through invoices with backoff, honours the created range, and reports invalid ones', async () => {
    const ids = Array.from({ length: 120 }, () => uid('in'));
    api.invoices.put(...ids.map((id, i) => openInvoice(id, { created: CREATED + i })));
    api.invoices.put(openInvoice(uid('in'), { created: NOW - 3 * 86_400 }), openInvoice('in_badcurrency', { currency: 'euros' }));
    const log = warnings();
    const progress = { total: (n: number) => void (n === 100 && api.failNext(503, 1, { path: '/v1/invoices' })), tick: () => undefined };
    const result = await run({}, { logger: log.logger, progress });
    expect(result).toMatchObject({ listed: 121, inserted: 120, invalid: 1 });
    expect(result.invoices.find((i) => i.action === 'invalid')).toMatchObject({ invoice: 'in_badcurrency', reason: expect.stringMatching(/currency/) });
    expect(api.requests.filter((r) => r.path === '/v1/invoices').map((r) => [r.path, r.status])).toEqual([
      ['/v1/invoices', 200],
      ['/v1/invoices', 503],
      ['/v1/invoices', 200],
    ]);
    expect(api.requests[0]!.query).toEqual({ limit: '100', created: { gte: String(NOW - 86_400) } });
    expect(log.seen).toHaveLength(1);
  });
});

describe('reconcile, when the database refuses one invoice of a page', () => {
  // As a constraint or trigger an operator added would: the page's transaction fails, and the
  // invoice it was applied for must not hold back the others.
  beforeAll(async () => {
    await db.ds.query(`CREATE FUNCTION refuse_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.stripe_invoice_id LIKE 'in_refused%' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
    await db.ds.query(`CREATE TRIGGER refuse_invoice BEFORE INSERT OR UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION refuse_invoice()`);
  });
  afterAll(async () => {
    await db.ds.query(`DROP TRIGGER refuse_invoice ON invoices`);
  });

  it('inserts the rest of the page and reports the refused one as invalid, with the reason', async () => {
    const good = uid('in');
    const refused = uid('in_refused');
    api.invoices.put(paidInvoice(good));
    api.invoices.put(paidInvoice(refused));
    const r = await run();
    expect(await findInvoice(db.ds.manager, good)).toMatchObject({ status: 'paid' });
    expect(await findInvoice(db.ds.manager, refused)).toBeNull();
    expect(r.invoices.find((i) => i.invoice === refused)).toMatchObject({ action: 'invalid', reason: expect.stringMatching(/the database refused it: .*refused by the test/) });
    expect(r.invoices.find((i) => i.invoice === good)).toMatchObject({ action: 'inserted' });
  });
});

describe('billing reconcile (the built CLI)', () => {
  beforeAll(requireBuild);
  const env = () => ({ DATABASE_URL: db.url, STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: api.url, AWS_REGION: 'us-east-1' });

  it('repairs and reports each difference as JSON, columns by name and times as ISO', async () => {
    const id = uid('in');
    await rowFromEvent(openInvoice(id));
    api.invoices.put(paidInvoice(id));
    const r = await billing(['reconcile', '--since', SINCE.toISOString(), '--json'], env());
    expect(r.code).toBe(0);
    expect(r.err).not.toMatch(/billing:|"level"/);
    const report = JSON.parse(r.out) as { repaired: number; invoices: { invoice: string; differences: unknown[] }[] };
    expect(report).toMatchObject({ listed: 1, repaired: 1, dryRun: false });
    expect(report.invoices[0]!.differences).toEqual([
      { field: 'status', ours: 'open', stripe: 'paid' },
      { field: 'amount_paid_cents', ours: 0, stripe: 2500 },
      { field: 'amount_remaining_cents', ours: 2500, stripe: 0 },
      { field: 'paid_at', ours: null, stripe: new Date((CREATED + 60) * 1000).toISOString() },
    ]);
    expect((await findInvoice(db.ds.manager, id))?.status).toBe('paid');
  });

  it('prints the differences for a person on a dry run', async () => {
    const id = uid('in');
    await rowFromEvent(openInvoice(id));
    api.invoices.put(paidInvoice(id));
    const r = await billing(['reconcile', '--since', SINCE.toISOString(), '--dry-run'], env());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^dry run: .*1 listed, 0 unchanged, 1 would be repaired/);
    expect(r.out).toMatch(new RegExp(`${id}\\s+status\\s+open → paid`));
    expect((await findInvoice(db.ds.manager, id))?.status).toBe('open');
  });

  it('has --help', async () => {
    const r = await billing(['reconcile', '--help'], {});
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--since <iso>/);
    expect(r.out).toMatch(/--dry-run/);
  });

  it.each([
    [['reconcile'], /--since is required/],
    [['reconcile', '--since', '2026-13-45'], /--since: not an ISO 8601 moment/],
    [['reconcile', '--since', '2026-11-02', '--until', '2026-11-01'], /--since is after --until/],
    [['reconcile', '--since', '2026-11-01', 'extra'], /too many arguments/],
  ])('exits 2 on bad arguments: %j', async (args, message) => {
    const r = await billing(args, env());
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('exits 2 naming STRIPE_SECRET_KEY when it is not set', async () => {
    const r = await billing(['reconcile', '--since', SINCE.toISOString()], { DATABASE_URL: db.url });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/reconcile needs STRIPE_SECRET_KEY/);
  });

  it('fails clearly, without the key, when the API is unreachable', async () => {
    const r = await billing(['reconcile', '--since', SINCE.toISOString()], { ...env(), STRIPE_API_BASE: await deadUrl() });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/billing: GET \/v1\/invoices failed: cannot reach the Stripe API at http:\/\/127\.0\.0\.1:\d+/);
    expect(r.out + r.err).not.toContain(KEY);
  }, 60_000);
});
