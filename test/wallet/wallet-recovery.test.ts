/**
 * The ledger under the recovery commands, against real services: PostgreSQL, the SQS emulator
 * with the real worker, and the Stripe API test server through the real SDK. A forced replay,
 * reconcile and import of invoices the processor has already applied write nothing new (the
 * entries stay the same rows); an invoice first seen paid by an API read is a fact, so its credit
 * (and a refund's reversal) is written once, naming the read as its source (`api_import_…`,
 * `api_reconcile_…`: reconcileEventId).
 */
import type Stripe from 'stripe';
import { reconcileEventId } from '../../src/billing/repair';
import { EventQueue } from '../../src/queue/event-queue';
import { importInvoices } from '../../src/recovery/import';
import { reconcile, reconcileInvoices } from '../../src/recovery/reconcile';
import { replayEvents } from '../../src/recovery/replay-events';
import { createStripeClient } from '../../src/stripe/api-client';
import { noticeEffects } from '../../src/effects/notice-effects';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { startProcessor } from '../support/processor';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { waitFor } from '../support/wait';
import { cardPayment, finalized, paidEvents, refundOf, walletInvoice, type WalletInvoice } from '../support/wallet-events';
import { warnings } from '../recovery/cli-helper';

type Json = Record<string, unknown>;

const KEY = 'sk_test_walletrecovery0123456789';
const effects = noticeEffects(ALL_NOTICES);

let db: TestDatabase;
let api: StripeApi;
let sqs: TestSqs;
let stripe: Stripe;

beforeAll(async () => {
  [db, api, sqs] = await Promise.all([createTestDatabase(), startStripeApi(), startTestSqs()]);
  stripe = createStripeClient({ secretKey: KEY, apiBase: api.url }, 'wallet-recovery');
});
afterAll(async () => {
  await Promise.all([db?.drop(), api?.stop(), sqs?.stop()]);
});
beforeEach(() => api.reset());

const deps = () => ({ stripe, ds: db.ds, effects, logger: warnings().logger, backoff: { baseMs: 1 } });
const objectOf = (e: Json): Json => (e['data'] as { object: Json }).object;

/** Every column of the invoice's entries, oldest first: a rewrite or a new row would show. */
const ledgerOf = async (invoiceId: string): Promise<Json[]> => db.ds.query(`SELECT * FROM wallet_ledger WHERE stripe_invoice_id = $1 ORDER BY id`, [invoiceId]);

/** A paid top-up invoice of 50.00 by card, refunded 7.00: its events, oldest first, and its refund's id. */
function paidAndRefunded(w: WalletInvoice) {
  const refund = `re_${w.id.slice(3)}`;
  return { refund, events: [...paidEvents(w, 'card'), refundOf(w, { id: refund, amount: 700, at: w.start + 30 })] };
}

/**
 * What Stripe's API holds for the invoice these events describe, with Stripe's shapes: the
 * invoice as last sent, its invoice payment, the charge with its refunds embedded (as the
 * processor lists them, expanded) and amount_refunded, the refund.
 */
function putInApi(events: readonly Json[]): void {
  const byType = (type: string) => objectOf(events.filter((e) => e['type'] === type).at(-1)!);
  const invoice = byType('invoice.paid');
  const refunds = events.filter((e) => String(e['type']).startsWith('refund.')).map(objectOf);
  const charge = byType('charge.succeeded');
  api.invoices.put(invoice);
  api.invoicePayments.put(byType('invoice_payment.paid'));
  api.charges.put({
    ...charge,
    amount_refunded: refunds.reduce((sum, r) => sum + Number(r['amount']), 0),
    refunds: { object: 'list', data: refunds, has_more: false, url: `/v1/charges/${String(charge['id'])}/refunds` },
  });
  for (const r of refunds) api.refunds.put(r);
}

describe('recovery of invoices the processor already applied writes nothing new', () => {
  // Its own creation time, so a replay by time range takes its events alone.
  const w = walletInvoice({ reason: 'topup_failed' }, { amount: 5000, start: 1_780_000_000 });
  const { refund, events } = paidAndRefunded(w);
  let before: Json[];

  beforeAll(async () => {
    for (const e of events) await applyEvent(db.ds, JSON.stringify(e));
    before = await ledgerOf(w.id);
  });

  it('the events wrote the credit and the refund’s reversal', () => {
    expect(before.map((r) => [r['entry_type'], Number(r['amount_cents']), r['stripe_refund_id'], r['stripe_charge_id']])).toEqual([
      ['topup_credit', 5000, null, null],
      ['refund_reversal', -700, refund, cardPayment(w).charge],
    ]);
    expect(before.every((r) => String(r['source_event_id']).startsWith('evt_'))).toBe(true);
  });

  it('(a) a forced replay of every stored event, through the queue and the real worker', async () => {
    const queue = new EventQueue(sqs.client, sqs.queueUrl);
    const range = { since: new Date(w.start * 1000), until: new Date((w.start + 60) * 1000) };
    const replayed = await replayEvents(db.ds, queue, { ...range, force: true });
    expect(replayed).toMatchObject({ enqueued: events.length, failed: 0 });
    expect(new Set(replayed.events.map((e) => e.id))).toEqual(new Set(events.map((e) => e['id'])));
    const worker = await startProcessor({ databaseUrl: db.url, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, endpoint: sqs.endpoint, roles: ['worker'] });
    try {
      await waitFor('the replayed events processed', async () => (await depth(sqs.client, sqs.queueUrl)) === 0, 20_000, 100);
    } finally {
      await worker.stop();
    }
    expect(await depth(sqs.client, sqs.dlqUrl)).toBe(0);
    expect(await ledgerOf(w.id)).toEqual(before);
  });

  it('(b) reconcile of the invoice, its payment, charge and refund, named and by range', async () => {
    putInApi(events);
    const [report] = await reconcileInvoices(deps(), [w.id]);
    expect(report).toMatchObject({ invoice: w.id });
    const asked = api.requests.map((r) => r.path);
    expect(asked).toEqual(expect.arrayContaining([`/v1/invoices/${w.id}`, '/v1/invoice_payments', '/v1/charges']));
    const ranged = await reconcile(deps(), { since: new Date((w.start - 60) * 1000), until: new Date((w.start + 60) * 1000) });
    expect(ranged).toMatchObject({ listed: 1, invalid: 0 });
    expect(ranged.related['refund']).toMatchObject({ listed: 1, invalid: 0 });
    expect(await ledgerOf(w.id)).toEqual(before);
  });

  it('(c) import of the same invoice and its money, twice', async () => {
    putInApi(events);
    const range = { since: new Date((w.start - 60) * 1000), until: new Date((w.start + 60) * 1000) };
    const first = await importInvoices(deps(), range);
    expect(first).toMatchObject({ listed: 1, invalid: 0 });
    expect(first.related['charge']).toMatchObject({ listed: 1, invalid: 0 });
    await importInvoices(deps(), range);
    expect(await ledgerOf(w.id)).toEqual(before);
  });

  it('and the events delivered again afterwards, forced or not, write nothing either', async () => {
    for (const e of events) await applyEvent(db.ds, JSON.stringify(e));
    for (const e of events) await applyEvent(db.ds, JSON.stringify(e), {}, { force: true });
    expect(await ledgerOf(w.id)).toEqual(before);
  });
});

describe('an invoice first seen paid by an API read gets its entries: a fact, not news', () => {
  it('import: the credit and the refund’s reversal, once, named for the import; a second import and the late webhooks add nothing', async () => {
    const w = walletInvoice({ reason: 'topup_failed' }, { amount: 4200, start: 1_781_000_000 });
    const { refund, events } = paidAndRefunded(w);
    putInApi(events);
    const range = { since: new Date((w.start - 60) * 1000), until: new Date((w.start + 60) * 1000) };
    const t0 = Math.floor(Date.now() / 1000);
    const result = await importInvoices(deps(), range);
    expect(result).toMatchObject({ listed: 1, inserted: 1, insertedByStatus: { paid: 1 } });
    const rows = await ledgerOf(w.id);
    expect(rows.map((r) => [r['entry_type'], Number(r['amount_cents']), r['stripe_refund_id'], r['reason'], r['stripe_customer_id']])).toEqual([
      ['topup_credit', 4200, null, 'topup_failed', w.customer],
      ['refund_reversal', -700, refund, 'topup_failed', w.customer],
    ]);
    for (const r of rows) {
      const source = String(r['source_event_id']);
      expect(source).toMatch(/^api_import_\d+$/);
      const fetchedAt = Number(source.slice('api_import_'.length));
      expect(fetchedAt).toBeGreaterThanOrEqual(t0);
      expect(source).toBe(reconcileEventId(fetchedAt, 'import'));
    }
    // When it happened at Stripe, not when the import read it.
    expect((rows[0]!['occurred_at'] as Date).getTime()).toBe((w.start + 5) * 1000);
    expect((rows[1]!['occurred_at'] as Date).getTime()).toBe((w.start + 30) * 1000);

    await importInvoices(deps(), range);
    for (const e of events) await applyEvent(db.ds, JSON.stringify(e));
    expect(await ledgerOf(w.id)).toEqual(rows);
  });

  it('reconcile inserting the invoice: the credit, named for the reconcile', async () => {
    const w = walletInvoice({ reason: 'manual', wallet_effect: 'credit' }, { amount: 990, start: 1_782_000_000 });
    putInApi(paidEvents(w, 'card'));
    const [report] = await reconcileInvoices(deps(), [w.id]);
    expect(report).toMatchObject({ invoice: w.id, action: 'inserted', status: 'paid' });
    const rows = await ledgerOf(w.id);
    expect(rows.map((r) => [r['entry_type'], Number(r['amount_cents'])])).toEqual([['manual_credit', 990]]);
    expect(rows[0]!['source_event_id']).toMatch(/^api_reconcile_\d+$/);
  });

  it('reconcile repairing a row that missed its payment: the credit once, named for the reconcile; the late invoice.paid adds nothing', async () => {
    const w = walletInvoice({ reason: 'topup_failed' }, { amount: 2500, start: 1_783_000_000 });
    const events = paidEvents(w, 'card');
    await applyEvent(db.ds, JSON.stringify(finalized(w)));
    expect(await ledgerOf(w.id)).toEqual([]);
    putInApi(events);
    const [report] = await reconcileInvoices(deps(), [w.id]);
    expect(report).toMatchObject({ action: 'repaired', status: 'paid' });
    const rows = await ledgerOf(w.id);
    expect(rows.map((r) => [r['entry_type'], Number(r['amount_cents'])])).toEqual([['topup_credit', 2500]]);
    expect(rows[0]!['source_event_id']).toMatch(/^api_reconcile_\d+$/);
    for (const e of events) await applyEvent(db.ds, JSON.stringify(e));
    expect(await ledgerOf(w.id)).toEqual(rows);
  });

  it('a dry run of import or reconcile writes no entry', async () => {
    const w = walletInvoice({ reason: 'topup_failed' }, { amount: 1000, start: 1_784_000_000 });
    putInApi(paidAndRefunded(w).events);
    const range = { since: new Date((w.start - 60) * 1000), until: new Date((w.start + 60) * 1000) };
    expect(await importInvoices(deps(), { ...range, dryRun: true })).toMatchObject({ dryRun: true, inserted: 1 });
    expect(await reconcile(deps(), { ...range, dryRun: true })).toMatchObject({ dryRun: true, inserted: 1 });
    expect(await ledgerOf(w.id)).toEqual([]);
  });
});
