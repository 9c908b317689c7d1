// Stripe Connect through the pipeline, against a real database: a connected account's events are
// stored with their account on every table they write and in the event log, and an event of one
// owner (the platform, or an account) never changes a row of another.
import { noticeEffects } from '../../src/effects/notice-effects';
import { upsertContact } from '../../src/db/billing-contacts';
import { findInvoice } from '../../src/db/invoices';
import { AccountMismatchError, isRetryable } from '../../src/errors';
import { processBatch } from '../../src/pipeline/process-batch';
import type { ProcessOptions } from '../../src/pipeline/types';
import { createStripeClient } from '../../src/stripe/api-client';
import { objectFetcher } from '../../src/stripe-objects/registry';
import { applyEvent } from '../support/apply-event';
import { creditNote, creditNoteEvent, customer, customerEvent } from '../support/credit-note-events';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { chargeObject, invoicePaymentObject, paymentEvent, refundObject, API } from '../support/payment-events';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { ofAccount, paidLifecycle, uid } from '../support/stripe-events';
import { thinEvent } from '../support/thin-events';

type Json = Record<string, unknown>;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const NOW = 1_800_000_000;
const START = NOW - 3600;
const options: ProcessOptions = { nowSeconds: () => NOW, effects: { notices: noticeEffects(ALL_NOTICES) } };
const apply = (e: Json, force = false) => applyEvent(db.ds, JSON.stringify(e), options, { force });

const ACCOUNT = 'acct_1ConnectA';
const OTHER = 'acct_1ConnectB';

const ownerOf = async (table: string, key: string, id: string): Promise<string | null | undefined> => {
  const rows: Array<{ stripe_account_id: string | null }> = await db.ds.query(`SELECT stripe_account_id FROM ${table} WHERE ${key} = $1`, [id]);
  return rows[0]?.stripe_account_id;
};
const eventRow = async (id: unknown) =>
  ((await db.ds.query(`SELECT stripe_account_id, processed_at IS NOT NULL AS processed, attempts, last_error FROM stripe_events WHERE id = $1`, [id])) as Json[])[0];
const noticesOf = async (invoiceId: string): Promise<string[]> =>
  ((await db.ds.query(`SELECT kind || ':' || subject AS k FROM email_notices WHERE stripe_invoice_id = $1 ORDER BY 1`, [invoiceId])) as { k: string }[]).map((r) => r.k);

describe("a connected account's events", () => {
  it('are stored with their account on every table they write and in the event log', async () => {
    const invoiceId = uid('in');
    const lifecycle = paidLifecycle(invoiceId, START, { customer: uid('cus') }).map((e) => ofAccount(e, ACCOUNT));
    for (const e of lifecycle) await apply(e);
    const paymentIntent = uid('pi');
    const payment = invoicePaymentObject(invoiceId, { paymentIntent });
    const charge = chargeObject({ paymentIntent, invoice: invoiceId, layout: 'old', amountRefunded: 300, refunds: [refundObject('placeholder', { amount: 300, paymentIntent })] });
    // The listed refund names its charge.
    (charge['refunds'] as { data: Json[] }).data[0]!['charge'] = charge['id'];
    const cn = creditNote({ invoice: invoiceId });
    const cus = customer({ id: uid('cus'), email: 'ap@connected.test' });
    const more = [
      paymentEvent('invoice_payment.paid', payment, { created: START + 4 }),
      paymentEvent('charge.refunded', charge, { created: START + 5, apiVersion: API.listsRefunds }),
      creditNoteEvent('credit_note.created', cn, { created: START + 6 }),
      customerEvent('customer.updated', cus, { created: START + 7 }),
    ].map((e) => ofAccount(e, ACCOUNT));
    for (const e of more) await apply(e);

    const refundId = (charge['refunds'] as { data: Json[] }).data[0]!['id'] as string;
    expect({
      invoice: await ownerOf('invoices', 'stripe_invoice_id', invoiceId),
      payment: await ownerOf('invoice_payments', 'stripe_invoice_payment_id', payment['id'] as string),
      charge: await ownerOf('charges', 'stripe_charge_id', charge['id'] as string),
      // Carried inside the charge: it has no event of its own, and takes its carrier's account.
      refund: await ownerOf('refunds', 'stripe_refund_id', refundId),
      creditNote: await ownerOf('credit_notes', 'stripe_credit_note_id', cn['id'] as string),
      contact: await ownerOf('billing_contacts', 'stripe_customer_id', cus['id'] as string),
    }).toEqual({ invoice: ACCOUNT, payment: ACCOUNT, charge: ACCOUNT, refund: ACCOUNT, creditNote: ACCOUNT, contact: ACCOUNT });
    for (const e of [...lifecycle, ...more]) expect(await eventRow(e['id'])).toMatchObject({ stripe_account_id: ACCOUNT, processed: true, last_error: null });
    expect(await findInvoice(db.ds.manager, invoiceId)).toMatchObject({ status: 'paid', stripeAccountId: ACCOUNT });
  });

  it("leave the platform's own events and rows without an account", async () => {
    const invoiceId = uid('in');
    const [created] = paidLifecycle(invoiceId, START);
    // Stripe sends `account` only on Connect events; an explicit null is the platform's too.
    await apply({ ...created!, account: null });
    expect(await ownerOf('invoices', 'stripe_invoice_id', invoiceId)).toBeNull();
    expect(await eventRow(created!['id'])).toMatchObject({ stripe_account_id: null, processed: true });
  });

  it('take a contact an operator set before the customer’s first event, and keep the operator’s address', async () => {
    const id = uid('cus');
    await upsertContact(db.ds.manager, id, { invoiceEmail: 'billing@ops.test' });
    expect(await ownerOf('billing_contacts', 'stripe_customer_id', id)).toBeNull();
    await apply(ofAccount(customerEvent('customer.created', customer({ id, email: 'ada@example.com' }), { created: START }), ACCOUNT));
    const [row] = await db.ds.query(`SELECT stripe_account_id, invoice_email, primary_email FROM billing_contacts WHERE stripe_customer_id = $1`, [id]);
    expect(row).toEqual({ stripe_account_id: ACCOUNT, invoice_email: 'billing@ops.test', primary_email: 'ada@example.com' });
    // Claimed: another account's event about the same customer id is refused.
    await expect(apply(ofAccount(customerEvent('customer.updated', customer({ id, email: 'eve@example.com' }), { created: START + 1 }), OTHER))).rejects.toBeInstanceOf(AccountMismatchError);
    expect(await db.ds.query(`SELECT primary_email FROM billing_contacts WHERE stripe_customer_id = $1`, [id])).toEqual([{ primary_email: 'ada@example.com' }]);
  });
});

describe('the same invoice id under the platform and an account never mixes', () => {
  it("refuses an account's event for the platform's invoice: stored with the error, the row and the notices as they were", async () => {
    const invoiceId = uid('in');
    const lifecycle = paidLifecycle(invoiceId, START, { dueDate: NOW + 86_400 });
    await apply(lifecycle[0]!);
    await apply(lifecycle[1]!);
    const before = await findInvoice(db.ds.manager, invoiceId);
    const noticesBefore = await noticesOf(invoiceId);
    expect(before).toMatchObject({ status: 'open', stripeAccountId: null });

    const intruder = ofAccount(lifecycle[4]!, ACCOUNT);
    const refused = await apply(intruder).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AccountMismatchError);
    expect(isRetryable(refused)).toBe(false);
    expect((refused as Error).message).toBe(
      `invoice ${invoiceId} belongs to the platform; event ${intruder['id'] as string} (invoice.paid) is of connected account ${ACCOUNT} and cannot change it`,
    );
    expect(await findInvoice(db.ds.manager, invoiceId)).toEqual(before);
    expect(await noticesOf(invoiceId)).toEqual(noticesBefore);
    const stored = await eventRow(intruder['id']);
    expect(stored).toMatchObject({ stripe_account_id: ACCOUNT, processed: false, attempts: 1 });
    expect(stored!['last_error']).toMatch(/^AccountMismatchError: invoice .* belongs to the platform; .* is of connected account acct_1ConnectA/);

    // Redelivered, and replayed by force: refused each time, nothing changes.
    await expect(apply(intruder)).rejects.toBeInstanceOf(AccountMismatchError);
    await expect(apply(intruder, true)).rejects.toBeInstanceOf(AccountMismatchError);
    expect(await eventRow(intruder['id'])).toMatchObject({ processed: false, attempts: 3 });
    expect(await findInvoice(db.ds.manager, invoiceId)).toEqual(before);

    // The platform's own payment goes through, and its notices are queued once.
    for (const e of lifecycle.slice(2)) await apply(e);
    const paid = await noticesOf(invoiceId);
    expect(await findInvoice(db.ds.manager, invoiceId)).toMatchObject({ status: 'paid', stripeAccountId: null });
    expect(paid.length).toBeGreaterThan(noticesBefore.length);
    await expect(apply(intruder, true)).rejects.toBeInstanceOf(AccountMismatchError);
    expect(await noticesOf(invoiceId)).toEqual(paid);
  });

  it("refuses the platform's event for an account's invoice, and another account's", async () => {
    const invoiceId = uid('in');
    const lifecycle = paidLifecycle(invoiceId, START);
    await apply(ofAccount(lifecycle[0]!, ACCOUNT));
    const before = await findInvoice(db.ds.manager, invoiceId);
    await expect(apply(lifecycle[1]!)).rejects.toThrow(`invoice ${invoiceId} belongs to connected account ${ACCOUNT}; event ${lifecycle[1]!['id'] as string} (invoice.finalized) is of the platform and cannot change it`);
    await expect(apply(ofAccount(lifecycle[1]!, OTHER))).rejects.toThrow(`belongs to connected account ${ACCOUNT}; event ${lifecycle[1]!['id'] as string} (invoice.finalized) is of connected account ${OTHER}`);
    expect(await findInvoice(db.ds.manager, invoiceId)).toEqual(before);
    // The owner's own event goes through.
    await apply(ofAccount(lifecycle[2]!, ACCOUNT));
    expect(await findInvoice(db.ds.manager, invoiceId)).toMatchObject({ status: 'open', stripeAccountId: ACCOUNT });
  });

  it('keeps one owner when both arrive in one batch, and the rest of the batch applies', async () => {
    const shared = uid('in');
    const alone = uid('in');
    const [platformOne] = paidLifecycle(shared, START);
    const accountOne = ofAccount(paidLifecycle(shared, START)[1]!, ACCOUNT);
    const bystander = ofAccount(paidLifecycle(alone, START)[0]!, OTHER);
    const outcomes = await processBatch(db.ds, [platformOne!, accountOne, bystander].map((e) => ({ body: JSON.stringify(e), force: false })), options);
    expect(outcomes[2]).toMatchObject({ ok: true, result: { outcome: 'merged' } });
    // Which of the two comes first is a race; one wins, the other is refused, never both.
    const won = outcomes.slice(0, 2).map((o) => o!.ok);
    expect(won.filter(Boolean)).toHaveLength(1);
    const refused = outcomes[won[0] ? 1 : 0]!;
    expect(refused.ok ? null : refused.error).toBeInstanceOf(AccountMismatchError);
    expect(await ownerOf('invoices', 'stripe_invoice_id', shared)).toBe(won[0] ? null : ACCOUNT);
    expect(await ownerOf('invoices', 'stripe_invoice_id', alone)).toBe(OTHER);
  });
});

describe('objects carried inside others', () => {
  it("take their carrier's account, and a carrier of another owner is refused whole", async () => {
    const paymentIntent = uid('pi');
    const charge = chargeObject({ paymentIntent, layout: 'old', amountRefunded: 200 });
    const refund = refundObject(charge['id'] as string, { amount: 200, paymentIntent });
    const listing = { ...charge, refunds: { object: 'list', data: [refund], has_more: false, url: '/v1/refunds' } };
    await apply(ofAccount(paymentEvent('charge.refunded', listing, { created: START, apiVersion: API.listsRefunds }), ACCOUNT));
    expect(await ownerOf('refunds', 'stripe_refund_id', refund['id'] as string)).toBe(ACCOUNT);

    // The refund's own event, of another owner: refused.
    await expect(apply(paymentEvent('refund.updated', { ...refund, status: 'failed' }, { created: START + 1 }))).rejects.toThrow(`refund ${refund['id'] as string} belongs to connected account ${ACCOUNT}`);
    // A charge of the platform that lists the account's refund: the whole event is refused, the charge row is not written.
    const other = chargeObject({ paymentIntent: uid('pi'), layout: 'old', amountRefunded: 200 });
    const carrier = { ...other, refunds: { object: 'list', data: [{ ...refund, charge: other['id'] }], has_more: false, url: '/v1/refunds' } };
    await expect(apply(paymentEvent('charge.refunded', carrier, { created: START + 2, apiVersion: API.listsRefunds }))).rejects.toBeInstanceOf(AccountMismatchError);
    expect(await ownerOf('charges', 'stripe_charge_id', other['id'] as string)).toBeUndefined();
    expect(await db.ds.query(`SELECT status FROM refunds WHERE stripe_refund_id = $1`, [refund['id']])).toEqual([{ status: 'succeeded' }]);
  });
});

describe('thin events of a connected account', () => {
  let api: StripeApi;
  beforeAll(async () => {
    api = await startStripeApi();
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('fetch the object as the account named in `context` and stamp its row with it', async () => {
    const id = uid('in');
    api.invoices.putAs(ACCOUNT, (paidLifecycle(id, START)[4]!['data'] as { object: Json }).object);
    const e: Json = { ...thinEvent('v1.invoice.paid', id), context: ACCOUNT };
    const fetchObject = objectFetcher(createStripeClient({ secretKey: 'sk_test_connect', apiBase: api.url }, 'test'));
    await applyEvent(db.ds, JSON.stringify(e), { ...options, fetchObject });
    expect(api.requests.map((r) => [r.path, r.account])).toEqual([[`/v1/invoices/${id}`, ACCOUNT]]);
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'paid', stripeAccountId: ACCOUNT });
    expect(await eventRow(e['id'])).toMatchObject({ stripe_account_id: ACCOUNT, processed: true });
  });
});
