/**
 * What a customer is told must be true however the processor learned of their invoices: through
 * events as they happened, by `billing import`, repaired by reconcile, replayed, or discovered
 * late and out of order. The same facts give the same page, byte for byte; each state reads as
 * the README's table says. Against real PostgreSQL (one database per way of learning, so the same
 * Stripe ids can be compared directly), the Stripe API test server through the real SDK, and the
 * page's HTTP route.
 */
import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import { noticeEffects } from '../../src/effects/notice-effects';
import { importInvoices } from '../../src/recovery/import';
import { reconcile } from '../../src/recovery/reconcile';
import { createStripeClient } from '../../src/stripe/api-client';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { paymentEvent } from '../support/payment-events';
import { event, uid } from '../support/stripe-events';
import { warnings } from '../recovery/cli-helper';
import { invoiceEvents, walletEntry, type InvoiceKind, type SeedCustomer } from './seed';
import { startPageServer, type PageServer } from './server';
import { fetchPage, readPage, type PageAnswer, type PageLink, type ReadPage } from './sources-page';
import { finalizedEventOf, objectOf, paidAtStripe, putAtStripe } from './sources-stripe';

jest.setTimeout(60_000);

type Json = Record<string, unknown>;
const DAY = 86_400;
const KEY = 'sk_test_pagesources0123456789abcdef';
const effects = noticeEffects(ALL_NOTICES);
const wallNow = () => Math.floor(Date.now() / 1000);

interface World {
  db: TestDatabase;
  server: PageServer;
  page(customer: string): Promise<PageAnswer>;
}

async function world(): Promise<World> {
  const db = await createTestDatabase(4);
  const server = await startPageServer(db.ds);
  return { db, server, page: (customer) => fetchPage(server, customer) };
}

const apply = async (ds: DataSource, events: readonly Json[], force = false) => {
  for (const e of events) await applyEvent(ds, JSON.stringify(e), { effects: { notices: effects } }, { force });
};

/** One customer's invoices in every state the page lists, a day apart, each with its events. */
const customer: SeedCustomer = { customer: uid('cus'), name: 'Northwind Render', email: 'ap@northwind.test' };
const KINDS = ['open', 'overdue', 'paid', 'void', 'uncollectible'] as const;
const learned = KINDS.map((kind, i) => ({ kind, ...invoiceEvents(customer, { kind, ageSeconds: (40 - i) * DAY, amount: 31_000 + i * 100 }) }));
const idOf = (kind: InvoiceKind) => learned.find((l) => l.kind === kind)!.id;
const allEvents = learned.flatMap((l) => l.events);
const paidEvents = learned.find((l) => l.kind === 'paid')!.events;
const receiptOf = (events: readonly Json[]) => objectOf(events.find((e) => objectOf(e)['object'] === 'charge')!)['receipt_url'] as string;
const hosted = (id: string) => `https://invoice.stripe.com/i/acct_test/${id}`;
const pdf = (id: string) => `https://pay.stripe.com/invoice/acct_test/${id}/pdf`;

let byEvents: World;
let byImport: World;
let late: World;
let api: StripeApi;
let stripe: Stripe;

beforeAll(async () => {
  [byEvents, byImport, late, api] = await Promise.all([world(), world(), world(), startStripeApi()]);
  stripe = createStripeClient({ secretKey: KEY, apiBase: api.url }, 'import');
  await apply(byEvents.db.ds, allEvents);
  for (const w of [byEvents, byImport, late]) await walletEntry(w.db.ds, { customer: customer.customer, currency: 'usd', amount: 7_500 });
});

afterAll(async () => {
  await Promise.all([byEvents, byImport, late].map(async (w) => {
    await w?.server.close();
    await w?.db.drop();
  }));
  await api?.stop();
});

beforeEach(() => api.reset());

const link = (action: string, label: string, number: string, href: string): PageLink => ({
  action,
  href,
  label: label === 'Receipt' ? 'Receipt ↗' : label,
  // Every action opens Stripe's page in a new tab, and says so to a screen reader.
  name: `${label} ${number} (opens in a new tab)`,
  newTab: true,
});

/** Every state as the README's table gives it: the pill, then the actions, labelled, named for their invoice, with their targets. */
function expectEveryState(page: ReadPage): void {
  const number = (kind: InvoiceKind) => `INV-${idOf(kind).slice(-6).toUpperCase()}`;
  const row = (kind: InvoiceKind) => page.rows.get(idOf(kind));
  expect([...page.rows.keys()]).toEqual([...KINDS].reverse().map(idOf));
  expect(row('open')).toEqual({ status: 'open', pill: 'Open', tone: 'red', links: [link('pay_now', 'Pay now', number('open'), hosted(idOf('open'))), link('download', 'Download', number('open'), pdf(idOf('open')))] });
  expect(row('overdue')).toEqual({
    status: 'overdue',
    pill: 'Overdue',
    tone: 'red',
    links: [link('pay_overdue', 'Pay overdue', number('overdue'), hosted(idOf('overdue'))), link('download', 'Download', number('overdue'), pdf(idOf('overdue')))],
  });
  expect(row('paid')).toEqual({
    status: 'paid',
    pill: 'Paid',
    tone: 'green',
    links: [link('download', 'Download', number('paid'), pdf(idOf('paid'))), link('receipt', 'Receipt', number('paid'), receiptOf(paidEvents))],
  });
  expect(row('void')).toEqual({ status: 'void', pill: 'Void', tone: 'grey', links: [link('download', 'Download', number('void'), pdf(idOf('void')))] });
  expect(row('uncollectible')).toEqual({
    status: 'uncollectible',
    pill: 'Uncollectible',
    tone: 'amber',
    links: [link('pay_now', 'Pay now', number('uncollectible'), hosted(idOf('uncollectible'))), link('download', 'Download', number('uncollectible'), pdf(idOf('uncollectible')))],
  });
  expect([...page.overdue!.keys()]).toEqual([idOf('overdue')]);
  expect(page.overdue!.get(idOf('overdue'))).toEqual(row('overdue')!.links);
  expect(page.text).toContain('1 invoice is past its due date.');
  expect(page.text).toContain('Invoices are emailed to ap@northwind.test.');
}

describe('the same invoices, learned in different ways', () => {
  it('(a) learned through events: every state reads as the README says', async () => {
    const { json, html } = await byEvents.page(customer.customer);
    expectEveryState(readPage(html));
    const model = JSON.parse(json);
    expect(model.overview).toEqual([expect.objectContaining({ currency: 'usd', open_invoices: 2, amount_due: expect.objectContaining({ cents: String(31_000 + 31_100) }) })]);
    expect(model.overdue.map((i: { id: string }) => i.id)).toEqual([idOf('overdue')]);
  });

  it('(b) brought in by billing import: the same page, byte for byte, and again after a second import', async () => {
    putAtStripe(api, allEvents);
    const run = () => importInvoices({ stripe, ds: byImport.db.ds, effects, logger: warnings().logger, backoff: { baseMs: 1 } }, { since: new Date((wallNow() - 100 * DAY) * 1000) });
    const first = await run();
    expect(first).toMatchObject({ listed: KINDS.length, inserted: KINDS.length, invalid: 0 });
    expect(first.related).toMatchObject({ invoice_payment: { inserted: 1, invalid: 0 }, charge: { inserted: 1, invalid: 0 } });

    const [events, imported] = await Promise.all([byEvents.page(customer.customer), byImport.page(customer.customer)]);
    expect(JSON.parse(imported.json)).toEqual(JSON.parse(events.json));
    expect(imported.json).toBe(events.json);
    expect(imported.html).toBe(events.html);
    expectEveryState(readPage(imported.html));

    expect(await run()).toMatchObject({ inserted: 0, updated: 0, unchanged: KINDS.length });
    expect((await byImport.page(customer.customer)).json).toBe(events.json);
  });

  it('(c) an invoice we hold as overdue that Stripe says is paid: reconcile makes the page say Paid, with its receipt', async () => {
    const payer: SeedCustomer = { customer: uid('cus'), name: 'Late Payer GmbH', email: 'ap@late-payer.test' };
    const overdue = invoiceEvents(payer, { kind: 'overdue', ageSeconds: 50 * DAY, amount: 12_300, daysOverdue: 3 });
    const open = invoiceEvents(payer, { kind: 'open', ageSeconds: 2 * DAY, amount: 4_500 });
    await apply(byEvents.db.ds, [...overdue.events, ...open.events]);

    const before = await byEvents.page(payer.customer);
    const b = readPage(before.html);
    expect(b.rows.get(overdue.id)).toMatchObject({ pill: 'Overdue', links: [expect.objectContaining({ action: 'pay_overdue' }), expect.objectContaining({ action: 'download' })] });
    expect([...b.overdue!.keys()]).toEqual([overdue.id]);

    // Stripe: paid an hour ago, by a card whose charge has a receipt; the open invoice as we hold it.
    const paid = paidAtStripe(objectOf(overdue.events[0]!), wallNow() - 3600);
    api.invoices.put(paid.invoice, objectOf(open.events[0]!));
    api.invoicePayments.put(paid.payment);
    api.charges.put(paid.charge);
    const result = await reconcile({ stripe, ds: byEvents.db.ds, effects, logger: warnings().logger, backoff: { baseMs: 1 } }, { since: new Date((wallNow() - 60 * DAY) * 1000) });
    expect(result).toMatchObject({ listed: 2, repaired: 1, unchanged: 1, invalid: 0, invoices: [{ invoice: overdue.id, action: 'repaired', status: 'paid' }] });

    const after = await byEvents.page(payer.customer);
    const a = readPage(after.html);
    const number = `INV-${overdue.id.slice(-6).toUpperCase()}`;
    expect(a.rows.get(overdue.id)).toEqual({
      status: 'paid',
      pill: 'Paid',
      tone: 'green',
      links: [link('download', 'Download', number, pdf(overdue.id)), link('receipt', 'Receipt', number, paid.charge['receipt_url'] as string)],
    });
    expect(a.overdue).toBeNull();
    expect(a.text).not.toContain('past its due date');
    expect(after.html).not.toContain('data-testid="overdue"');
    // The open invoice is untouched; what is due is that invoice alone.
    expect(a.rows.get(open.id)).toEqual(b.rows.get(open.id));
    const model = JSON.parse(after.json);
    expect(model.overdue).toEqual([]);
    expect(model.overview).toEqual([expect.objectContaining({ open_invoices: 1, amount_due: expect.objectContaining({ cents: '4500' }) })]);
    const repaired = model.invoices.find((i: { id: string }) => i.id === overdue.id);
    expect(repaired).toMatchObject({ status: 'paid', display_status: 'paid', pill: { label: 'Paid', tone: 'green' }, days_overdue: 0 });
    expect(repaired.amounts.paid.cents).toBe('12300');
    expect(repaired.amounts.remaining.cents).toBe('0');
    expect(repaired.actions.map((x: { kind: string }) => x.kind)).toEqual(['download', 'receipt']);

    // The webhooks of that payment, arriving after the repair, change nothing; and had they
    // arrived in time, the page would be the same.
    const paidAt = (paid.invoice['status_transitions'] as { paid_at: number }).paid_at;
    const webhooks = [
      paymentEvent('invoice_payment.paid', paid.payment, { created: paidAt - 4 }),
      paymentEvent('charge.succeeded', paid.charge, { created: paidAt - 4 }),
      event('invoice.paid', paid.invoice, { created: paidAt }),
    ];
    await apply(byEvents.db.ds, webhooks);
    expect((await byEvents.page(payer.customer)).json).toBe(after.json);
    await apply(late.db.ds, [...overdue.events, ...open.events, ...webhooks]);
    expect((await late.page(payer.customer)).json).toBe(after.json);
  });

  it('(d) a forced replay of every event, in order and then newest first, leaves the page byte-identical', async () => {
    const before = await byEvents.page(customer.customer);
    await apply(byEvents.db.ds, allEvents, true);
    const inOrder = await byEvents.page(customer.customer);
    expect(inOrder.json).toBe(before.json);
    expect(inOrder.html).toBe(before.html);
    await apply(byEvents.db.ds, [...allEvents].reverse(), true);
    const reversed = await byEvents.page(customer.customer);
    expect(reversed.json).toBe(before.json);
    expect(reversed.html).toBe(before.html);
  });

  it('(e) discovered late: invoice.paid before invoice.finalized, the charge after; Receipt only once the charge is known', async () => {
    const [invoicePaid, paymentPaid, chargeSucceeded] = paidEvents as [Json, Json, Json];
    expect([invoicePaid['type'], paymentPaid['type'], chargeSucceeded['type']]).toEqual(['invoice.paid', 'invoice_payment.paid', 'charge.succeeded']);
    const others = learned.filter((l) => l.kind !== 'paid').flatMap((l) => l.events);
    await apply(late.db.ds, others);
    const id = idOf('paid');
    const number = `INV-${id.slice(-6).toUpperCase()}`;
    const paidRow = (links: PageLink[]) => ({ status: 'paid', pill: 'Paid', tone: 'green', links });
    const seen = async () => readPage((await late.page(customer.customer)).html).rows.get(id);

    const finalized = finalizedEventOf(invoicePaid);
    await apply(late.db.ds, [invoicePaid]);
    expect(await seen()).toEqual(paidRow([link('download', 'Download', number, pdf(id))]));
    // The older invoice.finalized arrives after: the page does not go back to Open or offer Pay now.
    await apply(late.db.ds, [finalized]);
    expect(await seen()).toEqual(paidRow([link('download', 'Download', number, pdf(id))]));
    // The payment names no receipt; the charge does.
    await apply(late.db.ds, [paymentPaid]);
    expect(await seen()).toEqual(paidRow([link('download', 'Download', number, pdf(id))]));
    await apply(late.db.ds, [chargeSucceeded]);
    expect(await seen()).toEqual(paidRow([link('download', 'Download', number, pdf(id)), link('receipt', 'Receipt', number, receiptOf(paidEvents))]));

    // Once everything is known, the page is the one the events in order gave.
    const [inOrder, outOfOrder] = await Promise.all([byEvents.page(customer.customer), late.page(customer.customer)]);
    expect(outOfOrder.json).toBe(inOrder.json);
    expect(outOfOrder.html).toBe(inOrder.html);
    // Replayed as they arrived, the stale invoice.finalized again after invoice.paid: nothing moves.
    await apply(late.db.ds, [...others, invoicePaid, finalized, paymentPaid, chargeSucceeded], true);
    expect((await late.page(customer.customer)).json).toBe(inOrder.json);
  });

  it('(e) discovered late: a charge that arrives before its invoice payment gives a Receipt once the payment links it', async () => {
    const orphan: SeedCustomer = { customer: uid('cus'), name: 'Orphan Charge SA', email: 'ap@orphan.test' };
    const paid = invoiceEvents(orphan, { kind: 'paid', ageSeconds: 3 * DAY, amount: 9_900 });
    const [invoicePaid, paymentPaid, chargeSucceeded] = paid.events as [Json, Json, Json];
    const receipts = async () => readPage((await late.page(orphan.customer)).html).rows.get(paid.id)!.links.filter((l) => l.action === 'receipt').map((l) => l.href);
    await apply(late.db.ds, [chargeSucceeded, invoicePaid]);
    expect(await receipts()).toEqual([]);
    await apply(late.db.ds, [finalizedEventOf(invoicePaid), paymentPaid]);
    expect(await receipts()).toEqual([receiptOf(paid.events)]);
  });
});
