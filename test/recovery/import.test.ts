/**
 * `billing import` adopting an account that already has invoices, against real services: the
 * Stripe API test server through the real SDK, PostgreSQL, the processor (webhook and worker),
 * the mailer and a real SMTP server. What customers receive is read at the SMTP server.
 */
import type Stripe from 'stripe';
import { findInvoice } from '../../src/db/invoices';
import { noticeEffects } from '../../src/effects/notice-effects';
import { importInvoices } from '../../src/recovery/import';
import { createStripeClient } from '../../src/stripe/api-client';
import { sweepInvoices } from '../../src/sweep/invoice-sweep';
import { DAY, deliverAll, drainOnce, noticeRows, openInvoice, paidEvent, startNoticeWorld, wallNow, type NoticeWorld } from '../notices/harness';
import { ALL_NOTICES } from '../support/notice-policy';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { billing, requireBuild, warnings } from './cli-helper';

const KEY = 'sk_test_import0123456789abcdef';
let world: NoticeWorld;
let api: StripeApi;
let stripe: Stripe;

beforeAll(async () => {
  requireBuild();
  [world, api] = await Promise.all([startNoticeWorld(), startStripeApi()]);
  stripe = createStripeClient({ secretKey: KEY, apiBase: api.url }, 'import');
});
afterAll(async () => {
  await Promise.all([world?.close(), api?.stop()]);
});
beforeEach(() => {
  api.reset();
  world.smtp.clear();
});

const env = () => ({ DATABASE_URL: world.db.url, STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: api.url });
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const transitions = (t: Record<string, number>) => ({ finalized_at: null, paid_at: null, voided_at: null, marked_uncollectible_at: null, ...t });

/** An account's invoices in every state, as Stripe lists them; `created` well in the past. */
function account(now: number) {
  const open = openInvoice({ dueDate: now + 10 * DAY, finalizedAt: now - 20 * DAY });
  const overdueDue = now - 40 * DAY;
  const overdue = openInvoice({ dueDate: overdueDue, finalizedAt: overdueDue - 30 * DAY });
  const paidBase = openInvoice({ dueDate: now - 5 * DAY, finalizedAt: now - 30 * DAY });
  const paid = { ...paidBase, status: 'paid', amount_paid: 1234, amount_remaining: 0, status_transitions: transitions({ finalized_at: now - 30 * DAY, paid_at: now - 10 * DAY }) };
  const voidBase = openInvoice({ dueDate: now - 5 * DAY, finalizedAt: now - 30 * DAY });
  const voided = { ...voidBase, status: 'void', status_transitions: transitions({ finalized_at: now - 30 * DAY, voided_at: now - 2 * DAY }) };
  const uncBase = openInvoice({ dueDate: now - 50 * DAY, finalizedAt: now - 80 * DAY });
  const uncollectible = { ...uncBase, status: 'uncollectible', status_transitions: transitions({ finalized_at: now - 80 * DAY, marked_uncollectible_at: now - 3 * DAY }) };
  const draftBase = openInvoice({});
  const draft = { ...draftBase, status: 'draft', number: null, hosted_invoice_url: null, invoice_pdf: null, status_transitions: transitions({}) };
  return { open, overdue, overdueDue, paid, voided, uncollectible, draft };
}

const recipientOf = (inv: Record<string, unknown>) => inv['customer_email'] as string;
const idOf = (inv: Record<string, unknown>) => inv['id'] as string;
const states = async (ids: string[]) => (await noticeRows(world.db.ds, ids)).map((r) => `${r.kind}#${r.sequence} ${r.status} ${r.last_error ?? ''}`.trim()).sort();

describe('billing import', () => {
  it('brings an account in without emailing anyone about the past; afterwards only what happens is mailed', async () => {
    const now = wallNow();
    const a = account(now);
    const all = [a.open, a.overdue, a.paid, a.voided, a.uncollectible, a.draft];
    for (const inv of all) api.invoices.put(inv);

    const r = await billing(['import', '--since', iso(now - 200 * DAY), '--json'], env());
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out);
    expect(result).toMatchObject({
      dryRun: false,
      listed: 6,
      inserted: 6,
      insertedByStatus: { open: 2, paid: 1, void: 1, uncollectible: 1, draft: 1 },
      updated: 0,
      unchanged: 0,
      invalid: 0,
    });
    for (const inv of all) expect(await findInvoice(world.db.ds.manager, idOf(inv))).toMatchObject({ status: inv['status'] });

    // Everything the imported states imply is on record as not sent: a baseline, no outbox to drain.
    expect(await states([idOf(a.overdue)])).toEqual(['invoice_issued#0 skipped imported', 'overdue_reminder#5 skipped imported']);
    expect(await states([idOf(a.paid)])).toEqual(['invoice_issued#0 skipped imported', 'invoice_paid#0 skipped imported']);
    const rows = await noticeRows(world.db.ds, all.map(idOf));
    expect(rows.filter((n) => n.status !== 'skipped')).toEqual([]);
    expect(result).toMatchObject({ noticesSkipped: rows.length, noticesQueued: 0 });

    // A sweep and a mailer pass now send nothing to any of these customers.
    await sweepInvoices(world.db.ds, now + 60, ALL_NOTICES);
    await drainOnce(world.db.ds, world.smtp.url, { now: () => now + 60 });
    expect(world.smtp.messages).toEqual([]);

    // A live change of an imported invoice is mailed as usual: exactly one email, the receipt.
    await deliverAll(world, [paidEvent(a.open)]);
    await drainOnce(world.db.ds, world.smtp.url, { now: () => wallNow() + 1 });
    expect(world.smtp.messages.map((m) => [m.envelopeTo, m.subject])).toEqual([
      [[recipientOf(a.open)], `Receipt for invoice ${a.open['number'] as string} from Acme Billing`],
    ]);
    world.smtp.clear();

    // 40 days overdue at import: dunning goes on from the next weekly step, on its day, not before.
    const next = a.overdueDue + DAY + 6 * 7 * DAY;
    for (const at of [now + DAY, next - 1]) {
      await sweepInvoices(world.db.ds, at, ALL_NOTICES);
      await drainOnce(world.db.ds, world.smtp.url, { now: () => at });
    }
    expect(world.smtp.messages).toEqual([]);
    await sweepInvoices(world.db.ds, next, ALL_NOTICES);
    await drainOnce(world.db.ds, world.smtp.url, { now: () => next });
    const mails = world.smtp.to(recipientOf(a.overdue));
    expect(mails.map((m) => m.subject)).toEqual([`Invoice ${a.overdue['number'] as string} is 43 days overdue`]);
    // The first reminder this customer gets from us: not called their 6th.
    expect(mails[0]!.text).toContain(`Invoice ${a.overdue['number'] as string} from Acme Billing is 43 days overdue.`);
    expect(mails[0]!.text).not.toMatch(/our \d+\w\w reminder/);
    expect(world.smtp.messages).toHaveLength(1);
  });

  it('run twice, the second run changes nothing', async () => {
    const now = wallNow();
    const a = account(now);
    const all = [a.open, a.overdue, a.paid, a.voided, a.uncollectible, a.draft];
    for (const inv of all) api.invoices.put(inv);
    const snapshot = async () => ({
      invoices: await world.db.ds.query(`SELECT * FROM invoices WHERE stripe_invoice_id = ANY($1) ORDER BY stripe_invoice_id`, [all.map(idOf)]),
      notices: await world.db.ds.query(`SELECT * FROM email_notices WHERE stripe_invoice_id = ANY($1) ORDER BY id`, [all.map(idOf)]),
    });

    expect((await billing(['import', '--since', iso(now - 200 * DAY)], env())).code).toBe(0);
    const first = await snapshot();
    const again = await billing(['import', '--since', iso(now - 200 * DAY), '--json'], env());
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ listed: 6, inserted: 0, updated: 0, unchanged: 6, noticesSkipped: 0, noticesQueued: 0 });
    expect(await snapshot()).toEqual(first);
  });

  it('merges as an event would: a row the webhook has seen paid stays paid when the listing is older', async () => {
    const now = wallNow();
    const inv = openInvoice({ finalizedAt: now - 60 });
    await deliverAll(world, [paidEvent(inv)]);
    const before = await findInvoice(world.db.ds.manager, idOf(inv));
    api.invoices.put(inv);
    const r = await billing(['import', '--since', iso(now - DAY), '--json'], env());
    expect(JSON.parse(r.out)).toMatchObject({ listed: 1, unchanged: 1, updated: 0 });
    expect(await findInvoice(world.db.ds.manager, idOf(inv))).toEqual(before);
  });

  it('takes what is new on a known row; a change that is news is mailed, as a repair would be', async () => {
    const now = wallNow();
    const inv = openInvoice({ finalizedAt: now - 60 });
    await deliverAll(world, [{ ...paidEvent(inv), type: 'invoice.finalized', data: { object: inv } }]);
    // Paid half a minute ago, and the event has not arrived (it may still be queued): the import finds it.
    api.invoices.put({ ...inv, status: 'paid', amount_paid: 1234, amount_remaining: 0, status_transitions: transitions({ finalized_at: now - 60, paid_at: now - 30 }) });
    const r = await billing(['import', '--since', iso(now - DAY), '--json'], env());
    expect(JSON.parse(r.out)).toMatchObject({ updated: 1, invoices: [{ invoice: idOf(inv), action: 'updated', status: 'paid' }] });
    expect(await states([idOf(inv)])).toEqual(['invoice_issued#0 pending', 'invoice_paid#0 pending']);
  });

  it('on a known row, a change older than NOTICE_MAX_EVENT_AGE_HOURS is recorded as stale', async () => {
    const now = wallNow();
    const inv = openInvoice({ finalizedAt: now - 9 * DAY });
    await deliverAll(world, [{ ...paidEvent(inv), type: 'invoice.finalized', data: { object: inv } }]);
    api.invoices.put({ ...inv, status: 'paid', amount_paid: 1234, amount_remaining: 0, status_transitions: transitions({ finalized_at: now - 9 * DAY, paid_at: now - 8 * DAY }) });
    await billing(['import', '--since', iso(now - 30 * DAY)], env());
    expect(await states([idOf(inv)])).toEqual(['invoice_issued#0 skipped stale', 'invoice_paid#0 skipped stale']);
  });

  it('reports an invoice the database refuses as invalid and imports the rest of its page', async () => {
    // As a constraint or trigger an operator added would: the page's transaction fails, and the
    // invoice it was applied for must not hold back the others.
    await world.db.ds.query(`CREATE FUNCTION refuse_import() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.customer_name = 'Refused by the test' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
    await world.db.ds.query(`CREATE TRIGGER refuse_import BEFORE INSERT OR UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION refuse_import()`);
    try {
      const now = wallNow();
      const good = openInvoice({ finalizedAt: now - 2 * DAY });
      const refused = { ...openInvoice({ finalizedAt: now - 2 * DAY }), customer_name: 'Refused by the test' };
      api.invoices.put(good);
      api.invoices.put(refused);
      const r = await billing(['import', '--since', iso(now - 3 * DAY), '--json'], env());
      expect(r.code).toBe(0);
      const out = JSON.parse(r.out) as { invoices: Array<{ invoice: string; action: string; reason?: string }> };
      expect(out.invoices.find((i) => i.invoice === idOf(refused))).toMatchObject({ action: 'invalid', reason: expect.stringMatching(/the database refused it: .*refused by the test/) });
      expect(await findInvoice(world.db.ds.manager, idOf(good))).toMatchObject({ status: 'open' });
      expect(await findInvoice(world.db.ds.manager, idOf(refused))).toBeNull();
    } finally {
      await world.db.ds.query(`DROP TRIGGER refuse_import ON invoices`);
    }
  });

  it('a payment made while the import ran is news: its receipt goes out', async () => {
    const began = wallNow();
    const inv = openInvoice({ finalizedAt: began - 20 * DAY });
    // Paid after the import began, before its page was read.
    api.invoices.put({ ...inv, status: 'paid', amount_paid: 1234, amount_remaining: 0, status_transitions: transitions({ finalized_at: began - 20 * DAY, paid_at: began + 5 }) });
    let clock = began;
    await importInvoices(
      { stripe, ds: world.db.ds, effects: noticeEffects(ALL_NOTICES), logger: warnings().logger, nowSeconds: () => clock++ },
      { since: new Date((began - 30 * DAY) * 1000) },
    );
    expect(await states([idOf(inv)])).toEqual(['invoice_issued#0 skipped imported', 'invoice_paid#0 pending']);
    await drainOnce(world.db.ds, world.smtp.url, { now: () => began + 10 });
    expect(world.smtp.to(recipientOf(inv)).map((m) => m.subject)).toEqual([`Receipt for invoice ${inv['number'] as string} from Acme Billing`]);
  });

  it('records the baseline whatever NOTICE_KINDS says, so turning a kind on later sends no catch-up', async () => {
    const now = wallNow();
    const a = account(now);
    api.invoices.put(a.overdue);
    const r = await billing(['import', '--since', iso(now - 200 * DAY)], { ...env(), NOTICE_KINDS: 'invoice_paid' });
    expect(r.code).toBe(0);
    expect(await states([idOf(a.overdue)])).toEqual(['invoice_issued#0 skipped imported', 'overdue_reminder#5 skipped imported']);
    // Every kind on: the sweep sends nothing today.
    await sweepInvoices(world.db.ds, now + 60, ALL_NOTICES);
    await drainOnce(world.db.ds, world.smtp.url, { now: () => now + 60 });
    expect(world.smtp.messages).toEqual([]);
  });

  it('writes nothing on a dry run, and says what it would do', async () => {
    const now = wallNow();
    const a = account(now);
    for (const inv of [a.open, a.paid]) api.invoices.put(inv);
    const r = await billing(['import', '--since', iso(now - 200 * DAY), '--dry-run'], env());
    expect(r.code).toBe(0);
    expect(r.out).toContain('dry run: invoices created');
    expect(r.out).toMatch(/would be inserted\s+2\s+\(open 1, paid 1\)/);
    expect(r.out).toContain("nothing was written; no email would be sent about the invoices' past");
    expect(await findInvoice(world.db.ds.manager, idOf(a.open))).toBeNull();
    expect(await noticeRows(world.db.ds, [idOf(a.open), idOf(a.paid)])).toEqual([]);
  });

  it('prints a summary for a person', async () => {
    const now = wallNow();
    const a = account(now);
    for (const inv of [a.open, a.overdue, a.paid]) api.invoices.put(inv);
    api.invoices.put({ ...openInvoice({}), currency: 'dollars' });
    const r = await billing(['import', '--since', iso(now - 200 * DAY)], env());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/invoices created .*: 4 listed in 1 page\(s\)/);
    expect(r.out).toMatch(/inserted\s+3\s+\(open 2, paid 1\)/);
    expect(r.out).toMatch(/invalid\s+1/);
    expect(r.out).toMatch(/in_\w+ {2}invalid: invalid invoice in import: currency: must be a three-letter ISO currency code/);
    expect(r.out).toMatch(/5 notice\(s\) recorded as not sent \(the invoices' past\); reminders continue from each invoice's next step/);
    expect(r.out).not.toMatch(/queued/);
  });

  it('stopped part way by the API, says how far it got; run again, it finishes and leaves what it had imported as it was', async () => {
    const now = wallNow();
    // 150 invoices: two pages of Stripe's largest size, 100.
    const invoices = Array.from({ length: 150 }, (_, i) => ({ ...openInvoice({ dueDate: now + 20 * DAY, finalizedAt: now - 10 * DAY - i }), created: now - 11 * DAY - i }));
    for (const inv of invoices) api.invoices.put(inv);
    const deps = {
      stripe,
      ds: world.db.ds,
      effects: noticeEffects(ALL_NOTICES),
      logger: warnings().logger,
      backoff: { attempts: 2, baseMs: 1 },
    };
    let pages = 0;
    const failing = { total: () => undefined, tick: () => void (++pages === 1 && api.failNext(500, 10)) };
    const error = await importInvoices({ ...deps, progress: failing }, { since: new Date((now - 30 * DAY) * 1000) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ImportInterruptedError', partial: { listed: 100, inserted: 100 } });
    expect((error as Error).message).toMatch(/500.*100 invoice\(s\) were imported before it stopped; run the same command again to finish/);
    const firstPage = await world.db.ds.query(`SELECT stripe_invoice_id, updated_at FROM invoices WHERE stripe_invoice_id = ANY($1) ORDER BY 1`, [invoices.map(idOf)]);
    expect(firstPage).toHaveLength(100);

    api.reset();
    for (const inv of invoices) api.invoices.put(inv);
    const done = await importInvoices(deps, { since: new Date((now - 30 * DAY) * 1000) });
    expect(done).toMatchObject({ listed: 150, inserted: 50, unchanged: 100, updated: 0 });
    const after = await world.db.ds.query(`SELECT stripe_invoice_id, updated_at FROM invoices WHERE stripe_invoice_id = ANY($1) ORDER BY 1`, [invoices.map(idOf)]);
    expect(after).toHaveLength(150);
    expect(after.filter((r: { stripe_invoice_id: string }) => firstPage.some((f: { stripe_invoice_id: string }) => f.stripe_invoice_id === r.stripe_invoice_id))).toEqual(firstPage);
    expect((await noticeRows(world.db.ds, invoices.map(idOf))).filter((n) => n.status !== 'skipped')).toEqual([]);
  });

  it.each([
    [['import'], /--since is required/],
    [['import', '--since', '2026-13-45'], /--since: not an ISO 8601 moment/],
    [['import', '--since', '2026-11-02', '--until', '2026-11-01'], /--since is after --until/],
    [['import', '--since', '2026-11-01', 'extra'], /too many arguments|unknown/i],
  ])('exits 2 on bad arguments: %j', async (args, message) => {
    const r = await billing(args, env());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('exits 2 naming STRIPE_SECRET_KEY when it is not set, before touching anything', async () => {
    const r = await billing(['import', '--since', '2026-11-01'], { DATABASE_URL: world.db.url });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^billing: import needs STRIPE_SECRET_KEY/);
    expect(api.requests).toEqual([]);
  });
});
