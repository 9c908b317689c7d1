/**
 * Import, reconcile and backfill for a connected account (`--account acct_…`), against real
 * services: PostgreSQL, the SQS emulator, and the Stripe API test server, which serves each
 * account's objects only to requests made as that account (Stripe-Account), through the real SDK.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type Stripe from 'stripe';
import { findInvoice } from '../../src/db/invoices';
import { noticeEffects } from '../../src/effects/notice-effects';
import { EventQueue } from '../../src/queue/event-queue';
import { backfill } from '../../src/recovery/backfill';
import { importInvoices } from '../../src/recovery/import';
import { reconcile, reconcileInvoices } from '../../src/recovery/reconcile';
import { createStripeClient } from '../../src/stripe/api-client';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { startTestSqs, type TestSqs } from '../support/sqs';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { chargeObject, creditNoteObject, invoicePaymentObject, refundObject } from '../support/stripe-api/objects';
import { event, invoice, paidLifecycle, uid } from '../support/stripe-events';
import { billing, requireBuild, warnings } from '../recovery/cli-helper';

type Json = Record<string, unknown>;

const KEY = 'sk_test_connect0123456789abcdef';
const NOW = Math.floor(Date.now() / 1000);
const CREATED = NOW - 7200;
const SINCE = new Date((NOW - 86_400) * 1000);
const ACCOUNT = 'acct_1RecoverA';
const effects = noticeEffects(ALL_NOTICES);

let db: TestDatabase;
let api: StripeApi;
let sqs: TestSqs;
let stripe: Stripe;

beforeAll(async () => {
  requireBuild();
  [db, api, sqs] = await Promise.all([createTestDatabase(), startStripeApi(), startTestSqs()]);
  stripe = createStripeClient({ secretKey: KEY, apiBase: api.url }, 'connect');
});
afterAll(async () => {
  await Promise.all([db?.drop(), api?.stop(), sqs?.stop()]);
});
beforeEach(() => api.reset());

const deps = () => ({ stripe, ds: db.ds, effects, logger: warnings().logger, backoff: { baseMs: 1 }, nowSeconds: () => NOW });

function paidInvoice(id: string): Json {
  return invoice({
    id,
    created: CREATED,
    customer: 'cus_connected',
    status: 'paid',
    number: `INV-${id.slice(-6)}`,
    amount_due: 2500,
    amount_paid: 2500,
    amount_remaining: 0,
    total: 2500,
    currency: 'usd',
    metadata: {},
    status_transitions: { finalized_at: CREATED + 10, paid_at: CREATED + 20, voided_at: null, marked_uncollectible_at: null },
  });
}

/** An account's paid invoice with the money behind it (payment, charge with a refund, credit note), stored as that account's. */
function accountInvoice(account: string) {
  const id = uid('in');
  const paymentIntent = uid('pi');
  const payment = invoicePaymentObject(id, { created: CREATED, payment: { type: 'payment_intent', payment_intent: paymentIntent } });
  const chargeId = uid('ch');
  const refund = refundObject(chargeId, { amount: 300, created: CREATED + 30, payment_intent: paymentIntent });
  const charge = chargeObject({ id: chargeId, created: CREATED, payment_intent: paymentIntent, amount_refunded: 300, refunds: { object: 'list', data: [refund], has_more: false, url: `/v1/charges/${chargeId}/refunds` } });
  const cn = creditNoteObject(id, { created: CREATED + 40 });
  api.invoices.putAs(account, paidInvoice(id));
  api.invoicePayments.putAs(account, payment);
  api.charges.putAs(account, charge);
  api.creditNotes.putAs(account, cn);
  return { id, payment: payment['id'] as string, charge: chargeId, refund: refund['id'] as string, creditNote: cn['id'] as string };
}

const owners = async (o: { id: string; payment: string; charge: string; refund: string; creditNote: string }) => {
  const one = async (table: string, key: string, id: string) =>
    ((await db.ds.query(`SELECT stripe_account_id FROM ${table} WHERE ${key} = $1`, [id])) as Array<{ stripe_account_id: string | null }>)[0]?.stripe_account_id;
  return [
    await one('invoices', 'stripe_invoice_id', o.id),
    await one('invoice_payments', 'stripe_invoice_payment_id', o.payment),
    await one('charges', 'stripe_charge_id', o.charge),
    await one('refunds', 'stripe_refund_id', o.refund),
    await one('credit_notes', 'stripe_credit_note_id', o.creditNote),
  ];
};

describe('import --account', () => {
  it("reads only the account's invoices and their money, every request as the account, and stamps every row", async () => {
    const mine = accountInvoice(ACCOUNT);
    const platforms = uid('in');
    api.invoices.put(paidInvoice(platforms));
    const result = await importInvoices(deps(), { since: SINCE, account: ACCOUNT });
    expect(result).toMatchObject({ account: ACCOUNT, listed: 1, inserted: 1, invalid: 0 });
    expect(api.requests.map((r) => [r.path, r.account])).toEqual([
      ['/v1/invoices', ACCOUNT],
      ['/v1/invoice_payments', ACCOUNT],
      ['/v1/credit_notes', ACCOUNT],
      ['/v1/charges', ACCOUNT],
    ]);
    expect(await owners(mine)).toEqual([ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]);
    expect(await findInvoice(db.ds.manager, platforms)).toBeNull();
  });

  it("without --account reads the platform's own, and never the account's", async () => {
    const mine = accountInvoice(ACCOUNT);
    const platforms = uid('in');
    api.invoices.put(paidInvoice(platforms));
    const result = await importInvoices(deps(), { since: SINCE });
    expect(result).toMatchObject({ account: null, listed: 1, inserted: 1 });
    expect(api.requests.filter((r) => r.account !== undefined)).toEqual([]);
    expect(await findInvoice(db.ds.manager, platforms)).toMatchObject({ stripeAccountId: null });
    expect(await findInvoice(db.ds.manager, mine.id)).toBeNull();
  });
});

describe('reconcile --account', () => {
  it('reads and repairs as the account, and stamps the rows it inserts', async () => {
    const mine = accountInvoice(ACCOUNT);
    const result = await reconcile(deps(), { since: SINCE, account: ACCOUNT });
    expect(result).toMatchObject({ account: ACCOUNT, listed: 1, inserted: 1, invalid: 0 });
    expect(api.requests.filter((r) => r.account !== ACCOUNT)).toEqual([]);
    expect(await owners(mine)).toEqual([ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]);
  });

  it("reports the platform's row of the same id as invalid, naming both owners, and leaves it as it is (dry run too)", async () => {
    const id = uid('in');
    const [created, finalized] = paidLifecycle(id, CREATED);
    await applyEvent(db.ds, JSON.stringify(created));
    await applyEvent(db.ds, JSON.stringify(finalized));
    const before = await findInvoice(db.ds.manager, id);
    api.invoices.putAs(ACCOUNT, paidInvoice(id));
    const reason = `invoice ${id} belongs to the platform; a read of Stripe's API (reconcile) is of connected account ${ACCOUNT} and cannot change it`;
    for (const dryRun of [true, false]) {
      const result = await reconcile(deps(), { since: SINCE, account: ACCOUNT, dryRun });
      expect(result).toMatchObject({ listed: 1, invalid: 1, repaired: 0, inserted: 0 });
      expect(result.invoices).toEqual([{ invoice: id, action: 'invalid', differences: [], reason }]);
    }
    expect(await findInvoice(db.ds.manager, id)).toEqual(before);
  });

  it('reconciles named invoices as the account a health alert names', async () => {
    const mine = accountInvoice(ACCOUNT);
    expect(await reconcileInvoices(deps(), [mine.id], ACCOUNT)).toEqual([{ invoice: mine.id, action: 'inserted', status: 'paid', differences: [] }]);
    expect(api.requests.filter((r) => r.account !== ACCOUNT)).toEqual([]);
    expect(await owners(mine)).toEqual([ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]);
  });
});

describe('backfill --account', () => {
  /** Every message on the queue, removed. */
  async function takeAll(): Promise<Json[]> {
    const out: Json[] = [];
    for (;;) {
      const res = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      const messages = res.Messages ?? [];
      if (messages.length === 0) return out;
      out.push(...messages.map((m) => JSON.parse(m.Body!) as Json));
      await sqs.client.send(new DeleteMessageBatchCommand({ QueueUrl: sqs.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  }

  it("lists the account's events as the account and enqueues each naming it; the platform's are not listed", async () => {
    await takeAll();
    const id = uid('in');
    // Listed as the account, Stripe's events may leave `account` out.
    const theirs = paidLifecycle(id, NOW - 3600);
    api.events.addAs(ACCOUNT, ...theirs);
    const platforms = event('invoice.created', invoice({ id: uid('in') }), { created: NOW - 3600 });
    api.events.add(platforms);
    const result = await backfill({ stripe, ds: db.ds, queue: new EventQueue(sqs.client, sqs.queueUrl), logger: warnings().logger, backoff: { baseMs: 1 } }, { since: SINCE, account: ACCOUNT });
    expect(result).toMatchObject({ account: ACCOUNT, listed: theirs.length, enqueued: theirs.length });
    expect(api.requests.length).toBeGreaterThan(0);
    expect(api.requests.filter((r) => r.account !== ACCOUNT)).toEqual([]);
    const sent = await takeAll();
    expect(sent.map((e) => e['id']).sort()).toEqual(theirs.map((e) => e['id']).sort());
    expect(sent.map((e) => e['account'])).toEqual(theirs.map(() => ACCOUNT));
    // The consumer takes them as the account's.
    for (const e of sent.sort((a, b) => (a['created'] as number) - (b['created'] as number))) await applyEvent(db.ds, JSON.stringify(e));
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'paid', stripeAccountId: ACCOUNT });
  });
});

describe('the commands, from the build', () => {
  const env = () => ({ DATABASE_URL: db.url, STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: api.url });

  it.each([
    ['import', 'acct-1'],
    ['reconcile', 'acct_'],
    ['backfill', 'cus_123'],
    ['import', 'platform'],
    ['reconcile', 'acct_1 OR 1=1'],
  ])('%s --account %j exits 2 before asking Stripe anything', async (command, account) => {
    const r = await billing([command, '--since', SINCE.toISOString(), '--account', account], env());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--account: .*acct_/);
    expect(api.requests).toEqual([]);
  });

  it('reconcile --alerts --account without --since exits 2', async () => {
    const r = await billing(['reconcile', '--alerts', '--account', ACCOUNT], env());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--account needs --since/);
  });

  it('import and reconcile --account send Stripe-Account on every request and say whose invoices they read', async () => {
    const mine = accountInvoice(ACCOUNT);
    const imported = await billing(['import', '--since', SINCE.toISOString(), '--account', ACCOUNT, '--json'], env());
    expect(imported.err).toBe('');
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.out)).toMatchObject({ account: ACCOUNT, listed: 1, inserted: 1 });
    const text = await billing(['reconcile', '--since', SINCE.toISOString(), '--account', ACCOUNT], env());
    expect(text.code).toBe(0);
    expect(text.out).toMatch(new RegExp(`^invoices of connected account ${ACCOUNT} created .*: 1 listed, 1 unchanged`));
    expect(api.requests.length).toBeGreaterThan(0);
    expect(api.requests.filter((r) => r.account !== ACCOUNT)).toEqual([]);
    expect(await owners(mine)).toEqual([ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]);
  });
});
