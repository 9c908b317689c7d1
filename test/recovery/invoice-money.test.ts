/**
 * import and reconcile bring in the money behind each invoice (its payments, the charges they point
 * to with their refunds, its credit notes), against real services: PostgreSQL, the Stripe API test
 * server through the real SDK, the pipeline's one batch path.
 */
import type Stripe from 'stripe';
import { findCharge } from '../../src/db/charges';
import { findCreditNote } from '../../src/db/credit-notes';
import { findInvoice } from '../../src/db/invoices';
import { findInvoicePayment } from '../../src/db/invoice-payments';
import { findRefund } from '../../src/db/refunds';
import { noticeEffects } from '../../src/effects/notice-effects';
import { importInvoices, ImportInterruptedError, type ImportDeps, type ImportOptions } from '../../src/recovery/import';
import { reconcile, type ReconcileDeps, type ReconcileOptions } from '../../src/recovery/reconcile';
import { StripeApiError } from '../../src/recovery/stripe-pages';
import { createStripeClient } from '../../src/stripe/api-client';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { chargeObject, creditNoteObject, invoicePaymentObject, refundObject } from '../support/stripe-api/objects';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { event, invoice, uid } from '../support/stripe-events';
import { billing, requireBuild, warnings } from './cli-helper';

const KEY = 'sk_test_money0123456789abcdef';
const DAY = 86_400;
const NOW = Math.floor(Date.now() / 1000);
const CREATED = NOW - 10 * DAY;
const SINCE = new Date((NOW - 30 * DAY) * 1000);
const effects = noticeEffects(ALL_NOTICES);

let db: TestDatabase;
let api: StripeApi;
let stripe: Stripe;

beforeAll(async () => {
  [db, api] = await Promise.all([createTestDatabase(), startStripeApi()]);
  stripe = createStripeClient({ secretKey: KEY, apiBase: api.url }, 'import');
});
afterAll(async () => {
  await Promise.all([db?.drop(), api?.stop()]);
});
beforeEach(() => api.reset());

const transitions = (t: Record<string, number>) => ({ finalized_at: null, paid_at: null, voided_at: null, marked_uncollectible_at: null, ...t });

/**
 * A paid invoice as Stripe holds it ten days on: paid by a PaymentIntent whose one charge has a
 * receipt, then credited 500 after payment. The objects are linked as Stripe links them (API
 * 2025-03-31 and later: the charge names no invoice; the invoice payment names the PaymentIntent).
 */
function paidAccount(created = CREATED) {
  const id = uid('in');
  const pi = uid('pi');
  const inv = invoice({
    id,
    created,
    status: 'paid',
    number: `INV-${id.slice(-6)}`,
    currency: 'eur',
    amount_due: 2500,
    amount_paid: 2500,
    amount_remaining: 0,
    total: 2500,
    due_date: null,
    metadata: {},
    post_payment_credit_notes_amount: 500,
    status_transitions: transitions({ finalized_at: created + 10, paid_at: created + 60 }),
  });
  const payment = invoicePaymentObject(id, {
    created: created + 10,
    currency: 'eur',
    amount_requested: 2500,
    amount_paid: 2500,
    payment: { type: 'payment_intent', payment_intent: pi },
    status: 'paid',
    status_transitions: { canceled_at: null, paid_at: created + 60 },
  });
  const charge = chargeObject({ payment_intent: pi, amount: 2500, amount_captured: 2500, currency: 'eur', created: created + 60 });
  const creditNote = creditNoteObject(id, { created: created + 3 * DAY, effective_at: created + 3 * DAY, amount: 500, currency: 'eur', type: 'post_payment' });
  return { id, pi, invoice: inv, payment, charge, creditNote };
}

type Account = ReturnType<typeof paidAccount>;

function serve(...accounts: Account[]): void {
  for (const a of accounts) {
    api.invoices.put(a.invoice);
    api.invoicePayments.put(a.payment);
    api.charges.put(a.charge);
    api.creditNotes.put(a.creditNote);
  }
}

const idOf = (o: Record<string, unknown>) => o['id'] as string;

const importDeps = (over: Partial<ImportDeps> = {}): ImportDeps => ({ stripe, ds: db.ds, effects, logger: warnings().logger, backoff: { baseMs: 1 }, ...over });
const runImport = (o: Partial<ImportOptions> = {}, deps: Partial<ImportDeps> = {}) => importInvoices(importDeps(deps), { since: SINCE, ...o });
const runReconcile = (o: Partial<ReconcileOptions> = {}, deps: Partial<ReconcileDeps> = {}) =>
  reconcile({ stripe, ds: db.ds, effects, logger: warnings().logger, backoff: { baseMs: 1 }, ...deps }, { since: SINCE, ...o });

/** Every row of the account's objects, whole, to compare before and after a run. */
async function rowsOf(a: Account) {
  return {
    invoice: await db.ds.query(`SELECT * FROM invoices WHERE stripe_invoice_id = $1`, [a.id]),
    payments: await db.ds.query(`SELECT * FROM invoice_payments WHERE stripe_invoice_id = $1`, [a.id]),
    charges: await db.ds.query(`SELECT * FROM charges WHERE stripe_payment_intent_id = $1`, [a.pi]),
    refunds: await db.ds.query(`SELECT * FROM refunds WHERE stripe_payment_intent_id = $1 OR stripe_charge_id = $2`, [a.pi, idOf(a.charge)]),
    creditNotes: await db.ds.query(`SELECT * FROM credit_notes WHERE stripe_invoice_id = $1`, [a.id]),
    notices: await db.ds.query(`SELECT * FROM email_notices WHERE stripe_invoice_id = $1 ORDER BY id`, [a.id]),
  };
}

const NONE = { listed: 0, inserted: 0, updated: 0, unchanged: 0, invalid: 0 };

describe('import brings in the money behind each invoice', () => {
  it('lands the payment, its charge (with the receipt) and the credit note, linked; a second run changes nothing', async () => {
    const a = paidAccount();
    serve(a);
    const result = await runImport();
    expect(result).toMatchObject({ listed: 1, inserted: 1, invalid: 0, noticesQueued: 0 });
    expect(result.related).toEqual({
      invoice_payment: { ...NONE, listed: 1, inserted: 1 },
      charge: { ...NONE, listed: 1, inserted: 1 },
      refund: NONE,
      credit_note: { ...NONE, listed: 1, inserted: 1 },
    });
    expect(result.objects).toEqual([]);

    expect(await findInvoicePayment(db.ds.manager, idOf(a.payment))).toMatchObject({
      stripeInvoiceId: a.id,
      stripePaymentIntentId: a.pi,
      // Linked to the charge of its PaymentIntent, which names no invoice itself.
      stripeChargeId: idOf(a.charge),
      status: 'paid',
      amountCents: 2500,
      currency: 'eur',
      paidAt: CREATED + 60,
      lastEventId: expect.stringMatching(/^api_import_\d+$/),
    });
    expect(await findCharge(db.ds.manager, idOf(a.charge))).toMatchObject({
      stripeInvoiceId: a.id,
      stripePaymentIntentId: a.pi,
      status: 'succeeded',
      amountCents: 2500,
      amountRefundedCents: 0,
      receiptUrl: a.charge['receipt_url'],
    });
    expect(await findCreditNote(db.ds.manager, idOf(a.creditNote))).toMatchObject({ stripeInvoiceId: a.id, status: 'issued', type: 'post_payment', totalCents: 500, postPaymentAmountCents: 500 });
    // The invoice's past is a baseline: nothing is sent about it.
    expect((await rowsOf(a)).notices.map((n: { kind: string; status: string; last_error: string }) => `${n.kind} ${n.status} ${n.last_error}`)).toEqual([
      'invoice_issued skipped imported',
      'invoice_paid skipped imported',
    ]);

    const before = await rowsOf(a);
    const again = await runImport();
    expect(again).toMatchObject({ listed: 1, inserted: 0, updated: 0, unchanged: 1, noticesSkipped: 0, noticesQueued: 0 });
    expect(again.related).toEqual({
      invoice_payment: { ...NONE, listed: 1, unchanged: 1 },
      charge: { ...NONE, listed: 1, unchanged: 1 },
      refund: NONE,
      credit_note: { ...NONE, listed: 1, unchanged: 1 },
    });
    expect(await rowsOf(a)).toEqual(before);
  });

  it('asks for each finalized invoice’s payments and credit notes, then its PaymentIntent’s charges; never for a draft’s', async () => {
    const a = paidAccount();
    const draft = invoice({ id: uid('in'), created: CREATED, status: 'draft', number: null, hosted_invoice_url: null, invoice_pdf: null, status_transitions: transitions({}) });
    serve(a);
    api.invoices.put(draft);
    await runImport();
    expect(api.requests.map((r) => [r.path, r.query])).toEqual([
      ['/v1/invoices', { limit: '100', created: { gte: String(Math.floor(SINCE.getTime() / 1000)) } }],
      ['/v1/invoice_payments', { limit: '100', invoice: a.id }],
      ['/v1/credit_notes', { limit: '100', invoice: a.id }],
      ['/v1/charges', { limit: '100', payment_intent: a.pi, expand: ['data.refunds'] }],
    ]);
    expect(api.requests.every((r) => r.status === 200)).toBe(true);
    // As the invoices are listed: as the account the key belongs to, no Stripe-Account.
    expect(api.requests.filter((r) => r.account !== undefined)).toEqual([]);
  });

  it('takes an invoice’s payments and credit notes whenever they were created: --since and --until select invoices by their creation', async () => {
    const a = paidAccount(NOW - 5 * DAY);
    // Credited after the window closed; paid the day after.
    api.invoices.put(a.invoice);
    api.invoicePayments.put({ ...a.payment, created: NOW - 3 * DAY });
    api.charges.put(a.charge);
    api.creditNotes.put({ ...a.creditNote, created: NOW - DAY });
    const outside = paidAccount(NOW - 40 * DAY);
    serve(outside);
    const result = await runImport({ since: new Date((NOW - 6 * DAY) * 1000), until: new Date((NOW - 4 * DAY) * 1000) });
    expect(result).toMatchObject({ listed: 1, inserted: 1 });
    expect(result.related['invoice_payment']).toMatchObject({ inserted: 1 });
    expect(result.related['credit_note']).toMatchObject({ inserted: 1 });
    expect(await findCreditNote(db.ds.manager, idOf(a.creditNote))).not.toBeNull();
    expect(await findInvoicePayment(db.ds.manager, idOf(outside.payment))).toBeNull();
  });

  it('follows a payment made by a charge alone (no PaymentIntent) with GET /v1/charges/:id, and brings the refunds a charge carries', async () => {
    const a = paidAccount();
    const chargeId = idOf(a.charge);
    const refund = refundObject(chargeId, { amount: 700, currency: 'eur', created: CREATED + DAY });
    api.invoices.put(a.invoice);
    api.invoicePayments.put({ ...a.payment, payment: { type: 'charge', charge: chargeId } });
    api.charges.put({ ...a.charge, payment_intent: null, amount_refunded: 700, refunds: { object: 'list', data: [refund], has_more: false, url: `/v1/charges/${chargeId}/refunds` } });
    const result = await runImport();
    expect(api.requests.filter((r) => r.path.startsWith('/v1/charges')).map((r) => [r.path, r.query])).toEqual([[`/v1/charges/${chargeId}`, { expand: ['refunds'] }]]);
    expect(result.related).toMatchObject({ charge: { inserted: 1 }, refund: { listed: 1, inserted: 1 } });
    expect(await findCharge(db.ds.manager, chargeId)).toMatchObject({ stripeInvoiceId: a.id, amountRefundedCents: 700 });
    expect(await findRefund(db.ds.manager, idOf(refund))).toMatchObject({ stripeChargeId: chargeId, amountCents: 700, status: 'succeeded' });
  });

  it('brings every refund of a charge with more than Stripe embeds (12 > 10), listing them with GET /v1/refunds?charge=, and backs off there too', async () => {
    const a = paidAccount();
    const chargeId = idOf(a.charge);
    // Newest first, as Stripe lists them: the embedded ten are the newest.
    const refunds = Array.from({ length: 12 }, (_, i) => refundObject(chargeId, { amount: 100, currency: 'eur', payment_intent: a.pi, created: CREATED + DAY + 12 - i }));
    const all = { object: 'list', data: refunds, has_more: false, url: `/v1/charges/${chargeId}/refunds` };
    const byCharge = { ...a.charge, amount_refunded: 1200, refunds: all };
    serve({ ...a, charge: byCharge });
    api.refunds.put(...refunds);
    api.failNext(503, 1, { path: '/v1/refunds' });
    const log = warnings();
    const result = await runImport({}, { logger: log.logger });
    expect(api.requests.filter((r) => r.path === '/v1/refunds').map((r) => [r.query, r.status])).toEqual([
      [{ limit: '100', charge: chargeId }, 503],
      [{ limit: '100', charge: chargeId }, 200],
    ]);
    expect(log.seen.map((w) => w.obj['path'])).toEqual(['/v1/refunds']);
    expect(result.related['refund']).toEqual({ ...NONE, listed: 12, inserted: 12 });
    for (const r of refunds) expect(await findRefund(db.ds.manager, idOf(r))).toMatchObject({ stripeChargeId: chargeId, amountCents: 100 });

    // A payment made by the charge alone, retrieved rather than listed, is followed the same way.
    const b = paidAccount();
    const other = idOf(b.charge);
    const more = Array.from({ length: 11 }, (_, i) => refundObject(other, { amount: 50, currency: 'eur', created: CREATED + DAY + 11 - i }));
    api.invoices.put(b.invoice);
    api.invoicePayments.put({ ...b.payment, payment: { type: 'charge', charge: other } });
    api.charges.put({ ...b.charge, payment_intent: null, amount_refunded: 550, refunds: { ...all, data: more, url: `/v1/charges/${other}/refunds` } });
    api.refunds.put(...more);
    api.requests.length = 0;
    const second = await runReconcile();
    expect(api.requests.filter((r) => r.path === '/v1/refunds').map((r) => r.query['charge']).sort()).toEqual([chargeId, other].sort());
    expect(second.related['refund']).toMatchObject({ listed: 11 + 12, inserted: 11, unchanged: 12 });
    for (const r of more) expect(await findRefund(db.ds.manager, idOf(r))).toMatchObject({ stripeChargeId: other });
  });

  it('changes nothing for an account whose invoices have no payments, and reports zero of each kind', async () => {
    const open = invoice({ id: uid('in'), created: CREATED, status: 'open', currency: 'eur', status_transitions: transitions({ finalized_at: CREATED + 10 }) });
    api.invoices.put(open);
    const result = await runImport();
    expect(result).toMatchObject({ listed: 1, inserted: 1, insertedByStatus: { open: 1 }, invalid: 0, objects: [] });
    expect(result.related).toEqual({ invoice_payment: NONE, charge: NONE, refund: NONE, credit_note: NONE });
  });

  it('writes nothing on a dry run, and counts what it would insert, the refunds a charge carries too', async () => {
    const a = paidAccount();
    const refund = refundObject(idOf(a.charge), { amount: 100, currency: 'eur' });
    serve({ ...a, charge: { ...a.charge, amount_refunded: 100, refunds: { object: 'list', data: [refund], has_more: false, url: '/v1/refunds' } } });
    const result = await runImport({ dryRun: true });
    expect(result).toMatchObject({ dryRun: true, inserted: 1, noticesSkipped: 0, noticesQueued: 0 });
    expect(result.related).toEqual({
      invoice_payment: { ...NONE, listed: 1, inserted: 1 },
      charge: { ...NONE, listed: 1, inserted: 1 },
      refund: { ...NONE, listed: 1, inserted: 1 },
      credit_note: { ...NONE, listed: 1, inserted: 1 },
    });
    expect(await rowsOf(a)).toEqual({ invoice: [], payments: [], charges: [], refunds: [], creditNotes: [], notices: [] });
  });

  it('rides out a 503 on the payments and a 429 on the charges, warning each time', async () => {
    const a = paidAccount();
    serve(a);
    api.failNext(503, 1, { path: '/v1/invoice_payments' });
    api.failNext(429, 1, { path: '/v1/charges' });
    const log = warnings();
    const result = await runImport({}, { logger: log.logger });
    expect(result.related).toMatchObject({ invoice_payment: { inserted: 1 }, charge: { inserted: 1 }, credit_note: { inserted: 1 } });
    expect(log.seen.map((w) => [w.obj['path'], w.msg])).toEqual([
      ['/v1/invoice_payments', 'Stripe API call failed; backing off'],
      ['/v1/charges', 'Stripe API call failed; backing off'],
    ]);
  });

  it('stopped by the API part way through a page, writes none of that page and says so; run again, it finishes', async () => {
    const first = Array.from({ length: 3 }, (_, i) => paidAccount(CREATED - i));
    serve(...first);
    // Each of the three PaymentIntents' charges, asked for twice (attempts: 2), fails.
    api.failNext(500, 6, { path: '/v1/charges' });
    const error = await runImport({}, { backoff: { attempts: 2, baseMs: 1 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportInterruptedError);
    expect((error as Error).message).toMatch(/^GET \/v1\/charges failed: the Stripe API answered 500: .*\(still failing after backing off\)\. 0 invoice\(s\) were imported before it stopped; run the same command again to finish/);
    expect((error as ImportInterruptedError).partial).toMatchObject({ listed: 0, inserted: 0, related: { charge: NONE } });
    for (const a of first) expect(await findInvoice(db.ds.manager, a.id)).toBeNull();

    const done = await runImport();
    expect(done).toMatchObject({ listed: 3, inserted: 3 });
    expect(done.related).toMatchObject({ invoice_payment: { inserted: 3 }, charge: { inserted: 3 }, credit_note: { inserted: 3 } });
  });

  it('reports a payment it cannot read, and a charge Stripe does not have, as invalid with the reason; the rest lands', async () => {
    const a = paidAccount();
    serve(a);
    const unreadable = invoicePaymentObject(a.id, { amount_requested: 'lots', currency: 'eur' });
    const missingCharge = uid('ch');
    const byGoneCharge = invoicePaymentObject(a.id, { currency: 'eur', payment: { type: 'charge', charge: missingCharge } });
    api.invoicePayments.put(unreadable, byGoneCharge);
    const result = await runImport();
    expect(result).toMatchObject({ inserted: 1, invalid: 0 });
    expect(result.related).toMatchObject({ invoice_payment: { listed: 3, inserted: 2, invalid: 1 }, charge: { listed: 2, inserted: 1, invalid: 1 }, credit_note: { inserted: 1 } });
    expect(result.objects).toEqual(
      expect.arrayContaining([
        { object: 'invoice_payment', id: idOf(unreadable), action: 'invalid', reason: expect.stringMatching(/^invalid invoice payment in import: amount_requested: /) },
        { object: 'charge', id: missingCharge, action: 'invalid', reason: `an invoice payment names charge ${missingCharge}, which Stripe does not have` },
      ]),
    );
    expect(result.objects).toHaveLength(2);
    expect(await findInvoicePayment(db.ds.manager, idOf(unreadable))).toBeNull();
    expect(await findInvoicePayment(db.ds.manager, idOf(a.payment))).toMatchObject({ status: 'paid' });
    expect(await findCharge(db.ds.manager, idOf(a.charge))).not.toBeNull();
  });

  it('reports a charge the database refuses as invalid, with the reason, and lands the rest of its page', async () => {
    await db.ds.query(`CREATE FUNCTION refuse_charge() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.receipt_url LIKE '%refused%' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
    await db.ds.query(`CREATE TRIGGER refuse_charge BEFORE INSERT OR UPDATE ON charges FOR EACH ROW EXECUTE FUNCTION refuse_charge()`);
    try {
      const a = paidAccount();
      serve({ ...a, charge: { ...a.charge, receipt_url: 'https://pay.stripe.com/receipts/refused' } });
      const result = await runImport();
      expect(result.objects).toEqual([{ object: 'charge', id: idOf(a.charge), action: 'invalid', reason: expect.stringMatching(/^the database refused it: .*refused by the test/) }]);
      expect(result).toMatchObject({ inserted: 1, invalid: 0 });
      expect(await findInvoicePayment(db.ds.manager, idOf(a.payment))).not.toBeNull();
      expect(await findCharge(db.ds.manager, idOf(a.charge))).toBeNull();
    } finally {
      await db.ds.query(`DROP TRIGGER refuse_charge ON charges`);
      await db.ds.query(`DROP FUNCTION refuse_charge()`);
    }
  });
});

describe('reconcile brings in the money behind each invoice', () => {
  it('inserts what is missing, then repairs a charge that missed its refund, once', async () => {
    const a = paidAccount();
    serve(a);
    const first = await runReconcile();
    expect(first).toMatchObject({ listed: 1, inserted: 1 });
    expect(first.related).toEqual({
      invoice_payment: { listed: 1, unchanged: 0, repaired: 0, inserted: 1, invalid: 0 },
      charge: { listed: 1, unchanged: 0, repaired: 0, inserted: 1, invalid: 0 },
      refund: { listed: 0, unchanged: 0, repaired: 0, inserted: 0, invalid: 0 },
      credit_note: { listed: 1, unchanged: 0, repaired: 0, inserted: 1, invalid: 0 },
    });
    expect(first.objects.map((o) => [o.object, o.action])).toEqual([
      ['invoice_payment', 'inserted'],
      ['credit_note', 'inserted'],
      ['charge', 'inserted'],
    ]);

    // Refunded at Stripe; the charge.refunded and refund.created webhooks never arrived.
    const refund = refundObject(idOf(a.charge), { amount: 500, currency: 'eur', created: NOW - 60, payment_intent: a.pi });
    api.charges.put({ ...a.charge, amount_refunded: 500, refunds: { object: 'list', data: [refund], has_more: false, url: '/v1/refunds' } });
    const repaired = await runReconcile();
    expect(repaired).toMatchObject({ listed: 1, unchanged: 1, repaired: 0, invoices: [] });
    expect(repaired.related['charge']).toEqual({ listed: 1, unchanged: 0, repaired: 1, inserted: 0, invalid: 0 });
    expect(repaired.related['refund']).toEqual({ listed: 1, unchanged: 0, repaired: 0, inserted: 1, invalid: 0 });
    expect(repaired.objects).toEqual([
      { object: 'charge', id: idOf(a.charge), action: 'repaired', differences: [{ field: 'amountRefundedCents', ours: 0, stripe: 500 }] },
      { object: 'refund', id: idOf(refund), action: 'inserted', differences: [] },
    ]);
    expect(await findCharge(db.ds.manager, idOf(a.charge))).toMatchObject({ amountRefundedCents: 500, stripeInvoiceId: a.id });
    expect(await findRefund(db.ds.manager, idOf(refund))).toMatchObject({ amountCents: 500, stripeChargeId: idOf(a.charge) });

    const again = await runReconcile();
    expect(again.objects).toEqual([]);
    expect(again.related['charge']).toMatchObject({ unchanged: 1, repaired: 0 });
  });

  it('repairs what a webhook left behind: a credit note voided at Stripe whose credit_note.voided never came', async () => {
    const a = paidAccount();
    serve(a);
    await applyEvent(db.ds, JSON.stringify(event('credit_note.created', a.creditNote, { created: CREATED + 3 * DAY })));
    api.creditNotes.put({ ...a.creditNote, status: 'void', voided_at: NOW - 120 });
    const result = await runReconcile();
    expect(result.objects.find((o) => o.object === 'credit_note')).toEqual({
      object: 'credit_note',
      id: idOf(a.creditNote),
      action: 'repaired',
      differences: [
        { field: 'status', ours: 'issued', stripe: 'void' },
        { field: 'voidedAt', ours: null, stripe: NOW - 120 },
      ],
    });
    expect(await findCreditNote(db.ds.manager, idOf(a.creditNote))).toMatchObject({ status: 'void', voidedAt: NOW - 120 });
  });

  it('compares on a dry run and writes nothing', async () => {
    const a = paidAccount();
    serve(a);
    const result = await runReconcile({ dryRun: true });
    expect(result).toMatchObject({ dryRun: true, inserted: 1 });
    expect(result.related).toMatchObject({ invoice_payment: { inserted: 1 }, charge: { inserted: 1 }, credit_note: { inserted: 1 } });
    expect(await rowsOf(a)).toEqual({ invoice: [], payments: [], charges: [], refunds: [], creditNotes: [], notices: [] });
  });

  it('fails as it does for invoices when the API keeps failing on the money: the call named, nothing of the page written', async () => {
    const a = paidAccount();
    serve(a);
    api.failNext(503, 3, { path: '/v1/credit_notes' });
    const log = warnings();
    const err = await runReconcile({}, { logger: log.logger, backoff: { attempts: 3, baseMs: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StripeApiError);
    expect((err as Error).message).toMatch(/^GET \/v1\/credit_notes failed: the Stripe API answered 503: .*\(still failing after backing off\)$/);
    expect(log.seen).toHaveLength(2);
    expect(await findInvoice(db.ds.manager, a.id)).toBeNull();
  });

  it('reports a credit note it cannot read as invalid and reconciles the rest', async () => {
    const a = paidAccount();
    serve({ ...a, creditNote: { ...a.creditNote, currency: 'euros' } });
    const result = await runReconcile();
    expect(result.related).toMatchObject({ credit_note: { listed: 1, invalid: 1, inserted: 0 }, invoice_payment: { inserted: 1 }, charge: { inserted: 1 } });
    expect(result.objects).toContainEqual({
      object: 'credit_note',
      id: idOf(a.creditNote),
      action: 'invalid',
      differences: [],
      reason: expect.stringMatching(/currency: must be a three-letter ISO currency code/),
    });
  });
});

describe('billing import and reconcile (the built CLI) report the money by kind', () => {
  beforeAll(requireBuild);
  const env = () => ({ DATABASE_URL: db.url, STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: api.url });
  const since = SINCE.toISOString();

  it('import prints counts per kind and each invalid object for a person, and the same as JSON', async () => {
    const a = paidAccount();
    serve(a);
    const bad = invoicePaymentObject(a.id, { currency: 'eur', status: 'PAID' });
    api.invoicePayments.put(bad);
    const dry = await billing(['import', '--since', since, '--dry-run'], env());
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/the money behind them:\n {2}invoice payments: 2 listed, 1 would be inserted, 0 would be updated, 0 unchanged, 1 invalid\n {2}charges: +1 listed, 1 would be inserted/);
    expect(dry.out).toContain(`  ${idOf(bad)}  invalid invoice payment: invalid invoice payment in import: status: must be a lowercase Stripe status name`);
    expect(dry.out).toMatch(/refunds: +0 listed/);
    expect(dry.out).toMatch(/credit notes: +1 listed, 1 would be inserted/);

    const r = await billing(['import', '--since', since, '--json'], env());
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.related).toEqual({
      invoice_payment: { listed: 2, inserted: 1, updated: 0, unchanged: 0, invalid: 1 },
      charge: { listed: 1, inserted: 1, updated: 0, unchanged: 0, invalid: 0 },
      refund: NONE,
      credit_note: { listed: 1, inserted: 1, updated: 0, unchanged: 0, invalid: 0 },
    });
    expect(out.objects).toEqual([{ object: 'invoice_payment', id: idOf(bad), action: 'invalid', reason: expect.stringMatching(/status/) }]);
  });

  it('reconcile names the fields of a repaired object as columns, times as ISO, for a person and as JSON', async () => {
    const a = paidAccount();
    serve(a);
    await runReconcile();
    api.charges.put({ ...a.charge, amount_refunded: 2500, refunded: true });
    const human = await billing(['reconcile', '--since', since, '--dry-run'], env());
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/ {2}charges: +1 listed, 0 unchanged, 1 would be repaired, 0 would be inserted, 0 invalid/);
    expect(human.out).toMatch(new RegExp(`${idOf(a.charge)}\\s+amount_refunded_cents\\s+0 → 2500`));
    expect(human.out).toMatch(new RegExp(`${idOf(a.charge)}\\s+refunded\\s+false → true`));

    api.creditNotes.put({ ...a.creditNote, status: 'void', voided_at: NOW - 60 });
    const r = await billing(['reconcile', '--since', since, '--json'], env());
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { objects: Array<{ object: string; differences: unknown[] }> };
    expect(out.objects.find((o) => o.object === 'credit_note')!.differences).toEqual([
      { field: 'status', ours: 'issued', stripe: 'void' },
      { field: 'voided_at', ours: null, stripe: new Date((NOW - 60) * 1000).toISOString() },
    ]);
    expect(out.objects.find((o) => o.object === 'charge')!.differences).toEqual([
      { field: 'amount_refunded_cents', ours: 0, stripe: 2500 },
      { field: 'refunded', ours: false, stripe: true },
    ]);
  });
});
