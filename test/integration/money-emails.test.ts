/**
 * The emails an invoice's money sends, end to end against real services: events through the one
 * batch path into PostgreSQL, the real Mailer (its clock in the test's hands) to a real SMTP
 * server, and what the customer reads there. The receipt's link to its charge, and refund_issued
 * told once per refund however Stripe tells of it (a Refund, a charge's amount_refunded, a charge
 * that lists its refunds), in any order, with duplicates, and imported refunds recorded, not sent.
 */
import type Stripe from 'stripe';
import type { NoticeKind } from '../../src/billing/notice-kinds';
import { NOTICE_KINDS } from '../../src/billing/notice-kinds';
import { receiptOfInvoice } from '../../src/db/charges';
import { REFUND_ACTION_RECHECK_SECONDS } from '../../src/mail/delivery';
import { noticeEffects, type NoticeEffects } from '../../src/effects/notice-effects';
import { processBatch } from '../../src/pipeline/process-batch';
import { importInvoices } from '../../src/recovery/import';
import { createStripeClient } from '../../src/stripe/api-client';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES, policyOf } from '../support/notice-policy';
import { API, chargeObject, invoicePaymentObject, paymentEvent, refundObject } from '../support/payment-events';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp-sink';
import * as apiObjects from '../support/stripe-api/objects';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { invoice as invoiceObject, uid } from '../support/stripe-events';
import { resentAs } from './helpers';
import { DAY, drainOnce, expectedMessageId, finalizedEvent, noticeRows, openInvoice, paidEvent, wallNow, type NoticeRow } from '../notices/harness';

type Json = Record<string, unknown>;

let db: TestDatabase;
let smtp: SmtpSink;
let api: StripeApi;
beforeAll(async () => {
  [db, smtp, api] = await Promise.all([createTestDatabase(4), startSmtpSink(), startStripeApi()]);
});
afterAll(async () => {
  await Promise.all([db?.drop(), smtp?.close(), api?.stop()]);
});
beforeEach(() => {
  smtp.clear();
  api.reset();
});

/** The processor's clock: what each event is applied at, so queue times are the test's. */
let clock = 0;
const WITHOUT_REFUNDS = policyOf(NOTICE_KINDS.filter((k): k is NoticeKind => k !== 'refund_issued'));
const apply = (e: Json, policy = ALL_NOTICES) => applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => clock, effects: { notices: noticeEffects(policy) } });
/** One mailer pass at `at`, one lane, so an invoice's notices go in queue order. */
const drain = (at: number, receiptWaitSeconds = 120) => drainOnce(db.ds, smtp.url, { now: () => at, receiptWaitSeconds, concurrency: 1 });

/**
 * A paid invoice of the current API (2025-03-31 and later): the invoice, its InvoicePayment by a
 * PaymentIntent, and the PaymentIntent's charge, which no longer names the invoice.
 */
function paidInvoice(t: number, o: { amount?: number; receiptUrl?: string } = {}) {
  const amount = o.amount ?? 1000;
  const inv = openInvoice({ finalizedAt: t - 600, amount, customerName: 'Jane <b>Customer</b>' });
  const id = inv['id'] as string;
  const recipient = inv['customer_email'] as string;
  const pi = uid('pi');
  const chargeId = uid('ch');
  const charge = (c: { amountRefunded?: number; created?: number } = {}) =>
    chargeObject({ id: chargeId, paymentIntent: pi, amount, created: t, ...(o.receiptUrl ? { receiptUrl: o.receiptUrl } : {}), ...c });
  return {
    id,
    recipient,
    number: inv['number'] as string,
    hostedUrl: inv['hosted_invoice_url'] as string,
    pi,
    chargeId,
    receiptUrl: o.receiptUrl ?? `https://pay.stripe.com/receipts/payment/${chargeId}`,
    finalized: finalizedEvent(inv, t - 600),
    paid: paidEvent(inv, t),
    paymentPaid: paymentEvent('invoice_payment.paid', invoicePaymentObject(id, { paymentIntent: pi, created: t - 1, amount }), { created: t }),
    chargeSucceeded: paymentEvent('charge.succeeded', charge(), { created: t }),
    /** charge.refunded as the current API sends it: the amount refunded so far, no list of refunds. */
    chargeRefunded: (amountRefunded: number, at: number) => paymentEvent('charge.refunded', charge({ amountRefunded }), { created: at }),
    refund: (amount: number, at: number, status = 'succeeded') => refundObject(chargeId, { amount, created: at, paymentIntent: pi, status }),
  };
}
type Paid = ReturnType<typeof paidInvoice>;

/** The invoice issued and its email sent, then paid (invoice.paid, its payment and charge) at `t`. */
async function issuedAndPaid(p: Paid, t: number, o: { charge?: boolean } = {}) {
  clock = t - 600;
  await apply(p.finalized);
  expect(await drain(clock + 1)).toBe(1);
  clock = t;
  await apply(p.paid);
  if (o.charge !== false) {
    await apply(p.paymentPaid);
    await apply(p.chargeSucceeded);
  }
}

const refundCreated = (refund: Json, at: number) => paymentEvent('refund.created', refund, { created: at });
const mailsTo = (recipient: string, subjectStart: string): ReceivedMail[] => smtp.to(recipient).filter((m) => m.subject.startsWith(subjectStart));
const refundRows = async (invoiceId: string): Promise<NoticeRow[]> => (await noticeRows(db.ds, [invoiceId])).filter((r) => r.kind === 'refund_issued');
const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));

describe('invoice_paid carries the Receipt link of the charge that paid the invoice', () => {
  it('the charge known before the receipt goes: the Receipt link, in the text and the HTML', async () => {
    const t = wallNow();
    const p = paidInvoice(t);
    await issuedAndPaid(p, t);
    expect(await drain(t + 1)).toBe(1);
    const [mail] = mailsTo(p.recipient, 'Receipt for invoice');
    expect(mail!.subject).toBe(`Receipt for invoice ${p.number} from Acme Billing`);
    expect(mail!.text).toContain(`Amount paid: $10.00`);
    expect(mail!.text).toContain(`Receipt: ${p.receiptUrl}\n`);
    expect(mail!.text).toContain(`View invoice: ${p.hostedUrl}\n`);
    expect(hrefs(mail!.html)).toEqual([p.receiptUrl, p.hostedUrl, expect.stringContaining('/pdf')]);
    expect(mail!.html).toContain('Jane &lt;b&gt;Customer&lt;/b&gt;');
  });

  it('the charge never comes: the receipt waits RECEIPT_WAIT_SECONDS from when it was queued, then goes with the invoice link', async () => {
    const t = wallNow();
    const p = paidInvoice(t);
    await issuedAndPaid(p, t, { charge: false });
    expect(await drain(t + 1)).toBe(1);
    const [row] = (await noticeRows(db.ds, [p.id])).filter((r) => r.kind === 'invoice_paid');
    expect(row).toMatchObject({ status: 'pending', created_at: t, next_attempt_at: t + 120 });
    expect(mailsTo(p.recipient, 'Receipt')).toEqual([]);
    expect(await drain(t + 119)).toBe(0);

    expect(await drain(t + 120)).toBe(1);
    const [mail] = mailsTo(p.recipient, 'Receipt for invoice');
    expect(mail!.text).not.toContain('Receipt:');
    expect(mail!.text).toContain(`View invoice: ${p.hostedUrl}\n`);
    expect(hrefs(mail!.html)[0]).toBe(p.hostedUrl);
    expect((await noticeRows(db.ds, [p.id])).find((r) => r.kind === 'invoice_paid')).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('the charge comes during the wait: the next mailer pass sends the receipt with its link', async () => {
    const t = wallNow();
    const p = paidInvoice(t);
    await issuedAndPaid(p, t, { charge: false });
    expect(await drain(t + 1)).toBe(1);
    expect(mailsTo(p.recipient, 'Receipt')).toEqual([]);

    // The payment and its charge, a few seconds late: the waiting receipt is due again at once.
    clock = t + 5;
    await apply(p.chargeSucceeded);
    await apply(p.paymentPaid);
    expect(await drain(t + 6)).toBe(1);
    const [mail] = mailsTo(p.recipient, 'Receipt for invoice');
    expect(mail!.text).toContain(`Receipt: ${p.receiptUrl}\n`);
  });

  it('an older API version: the charge names its invoice itself, no invoice payment needed', async () => {
    const t = wallNow();
    const p = paidInvoice(t);
    await issuedAndPaid(p, t, { charge: false });
    expect(await drain(t + 1)).toBe(1);
    clock = t + 3;
    await apply(paymentEvent('charge.succeeded', chargeObject({ id: p.chargeId, invoice: p.id, layout: 'old', created: t }), { created: t, apiVersion: API.old }));
    expect(await drain(t + 4)).toBe(1);
    expect(mailsTo(p.recipient, 'Receipt for invoice')[0]!.text).toContain(`Receipt: ${p.receiptUrl}\n`);
  });

  it('a receipt link that is not a web URL is left out, and the receipt does not wait for a better one', async () => {
    const t = wallNow();
    const p = paidInvoice(t, { receiptUrl: 'javascript:alert(document.cookie)' });
    await issuedAndPaid(p, t);
    expect(await drain(t + 1)).toBe(1);
    const [mail] = mailsTo(p.recipient, 'Receipt for invoice');
    expect(`${mail!.text}${mail!.html}`).not.toContain('javascript:');
    expect(mail!.text).not.toContain('Receipt:');
  });

  it('links the latest succeeded charge that has a receipt, as finance_invoice_rows does, past a later one without', async () => {
    const t = wallNow();
    const p = paidInvoice(t);
    await issuedAndPaid(p, t);
    // A second payment of the invoice, whose charge came without a receipt link.
    const pi = uid('pi');
    const chargeId = uid('ch');
    await apply(paymentEvent('invoice_payment.paid', invoicePaymentObject(p.id, { paymentIntent: pi, amount: 500, created: t }), { created: t }));
    await apply(paymentEvent('charge.succeeded', { ...chargeObject({ id: chargeId, paymentIntent: pi, amount: 500, created: t + 1 }), receipt_url: null }, { created: t + 1 }));
    expect(await drain(t + 2)).toBe(1);
    expect(mailsTo(p.recipient, 'Receipt for invoice')[0]!.text).toContain(`Receipt: ${p.receiptUrl}\n`);
    expect(await db.ds.query(`SELECT receipt_url FROM finance_invoice_rows WHERE invoice_id = $1`, [p.id])).toEqual([{ receipt_url: p.receiptUrl }]);
  });

  it('no charge to wait for: an invoice paid out of band, or with nothing to pay, goes at once', async () => {
    const t = wallNow();
    const oob = paidInvoice(t);
    await issuedAndPaid(oob, t, { charge: false });
    await apply(paymentEvent('invoice_payment.paid', invoicePaymentObject(oob.id, { payment: { type: 'out_of_band_payment' }, created: t - 1 }), { created: t }));
    expect(await drain(t + 1)).toBe(1);
    expect(mailsTo(oob.recipient, 'Receipt for invoice')).toHaveLength(1);

    const free = paidInvoice(t, { amount: 0 });
    await issuedAndPaid(free, t, { charge: false });
    expect(await drain(t + 1)).toBe(1);
    expect(mailsTo(free.recipient, 'Receipt for invoice')).toHaveLength(1);
  });
});

describe('refund_issued', () => {
  /** Paid and its receipt sent at `t`. */
  async function paidAndReceipted(t: number) {
    const p = paidInvoice(t);
    await issuedAndPaid(p, t);
    expect(await drain(t + 1)).toBe(1);
    smtp.clear();
    return p;
  }

  it('a partial then a full refund (each told both ways, in either order, each event twice and resent): two emails, with the amounts and the receipt link', async () => {
    const t = wallNow() - 3600;
    const p = await paidAndReceipted(t);

    const partial = p.refund(300, t + 100);
    clock = t + 100;
    const amountFirst = [p.chargeRefunded(300, t + 100), refundCreated(partial, t + 100)];
    for (const e of [amountFirst[0]!, amountFirst[0]!, amountFirst[1]!, resentAs(amountFirst[0]!), amountFirst[1]!, resentAs(amountFirst[1]!)]) await apply(e);
    expect(await drain(t + 101)).toBe(1);

    const rest = p.refund(700, t + 200);
    clock = t + 200;
    const refundFirst = [refundCreated(rest, t + 200), p.chargeRefunded(1000, t + 200)];
    for (const e of [refundFirst[0]!, refundFirst[1]!, refundFirst[0]!, resentAs(refundFirst[1]!), resentAs(refundFirst[0]!), refundFirst[1]!]) await apply(e);
    expect(await drain(t + 201)).toBe(1);
    expect(await drain(t + 3600)).toBe(0);

    const mails = mailsTo(p.recipient, 'Refund of');
    expect(mails.map((m) => m.subject)).toEqual([`Refund of $3.00 for invoice ${p.number} from Acme Billing`, `Refund of $7.00 for invoice ${p.number} from Acme Billing`]);
    for (const [m, amount] of [[mails[0]!, '$3.00'], [mails[1]!, '$7.00']] as const) {
      expect(m.text).toContain(`Acme Billing has issued a refund of ${amount} for invoice ${p.number}.`);
      expect(m.text).toContain(`Invoice: ${p.number}\nAmount refunded: ${amount}\n\nReceipt: ${p.receiptUrl}\n`);
      expect(hrefs(m.html)).toEqual([p.receiptUrl]);
      expect(m.html).toContain('Hello Jane &lt;b&gt;Customer&lt;/b&gt;,');
    }
    const rows = await refundRows(p.id);
    // The partial was told by the charge's amount (it came first), the rest by its refund.
    expect(rows.map((r) => [r.subject, r.amount_cents, r.status])).toEqual([
      [`charge:${p.chargeId}:300`, 300, 'sent'],
      [`refund:${rest['id']}`, 700, 'sent'],
    ]);
    expect(mails.map((m) => m.messageId)).toEqual(rows.map((r) => expectedMessageId(r)));
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(2);
  });

  it.each([
    ['refund.created first', true],
    ['charge.refunded first', false],
  ])('refund.created and charge.refunded in one batch (%s), twice: one email', async (_name, refundFirst) => {
    const t = wallNow() - 3600;
    const p = await paidAndReceipted(t);
    const refund = p.refund(400, t + 50);
    const pair = [refundCreated(refund, t + 50), p.chargeRefunded(400, t + 50)];
    const ordered = refundFirst ? pair : [...pair].reverse();
    clock = t + 50;
    const messages = [...ordered, ...ordered.map(resentAs)].map((e) => ({ body: JSON.stringify(e), force: false }));
    const outcomes = await processBatch(db.ds, messages, { nowSeconds: () => clock, effects: { notices: noticeEffects(ALL_NOTICES) } });
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(await drain(t + 51)).toBe(1);
    expect(mailsTo(p.recipient, 'Refund of').map((m) => m.subject)).toEqual([`Refund of $4.00 for invoice ${p.number} from Acme Billing`]);
    expect(await refundRows(p.id)).toHaveLength(1);
  });

  it("an older API version's charge.refunded listing the refund, then refund.created: one email, the refund's", async () => {
    const t = wallNow() - 3600;
    const p = paidInvoice(t);
    clock = t - 600;
    await apply(p.finalized);
    clock = t;
    await apply(p.paid);
    await apply(paymentEvent('charge.succeeded', chargeObject({ id: p.chargeId, invoice: p.id, layout: 'old', created: t }), { created: t, apiVersion: API.listsRefunds }));
    expect(await drain(t + 1)).toBe(2);

    const refund = p.refund(250, t + 30);
    clock = t + 30;
    const listing = paymentEvent('charge.refunded', chargeObject({ id: p.chargeId, invoice: p.id, layout: 'old', created: t, amountRefunded: 250, refunds: [refund] }), { created: t + 30, apiVersion: API.listsRefunds });
    for (const e of [listing, refundCreated(refund, t + 30), listing, resentAs(refundCreated(refund, t + 30))]) await apply(e);
    expect(await drain(t + 31)).toBe(1);
    expect((await refundRows(p.id)).map((r) => r.subject)).toEqual([`refund:${refund['id']}`]);
    expect(mailsTo(p.recipient, 'Refund of').map((m) => m.subject)).toEqual([`Refund of $2.50 for invoice ${p.number} from Acme Billing`]);
  });

  it('a refund that failed: none queued when it is known failed, and none sent when it fails before the email leaves', async () => {
    const t = wallNow() - 3600;
    const p = await paidAndReceipted(t);

    const failedAtOnce = p.refund(100, t + 10, 'failed');
    clock = t + 10;
    await apply(refundCreated(failedAtOnce, t + 10));
    await apply(p.chargeRefunded(100, t + 10));
    expect(await refundRows(p.id)).toEqual([]);

    // Told by the refund, then by the charge's amount: each row skipped once its refund failed.
    const pending = p.refund(200, t + 20, 'pending');
    clock = t + 20;
    await apply(refundCreated(pending, t + 20));
    await apply(p.chargeRefunded(300, t + 20));
    const byAmount = p.refund(400, t + 30, 'pending');
    clock = t + 30;
    await apply(p.chargeRefunded(700, t + 30));
    expect((await refundRows(p.id)).map((r) => `${r.subject} ${r.status}`)).toEqual([`refund:${pending['id']} pending`, `charge:${p.chargeId}:700 pending`]);
    clock = t + 40;
    await apply(paymentEvent('refund.failed', { ...pending, status: 'failed', failure_reason: 'expired_or_canceled_card' }, { created: t + 40 }));
    await apply(paymentEvent('refund.created', byAmount, { created: t + 30 }));
    await apply(paymentEvent('refund.failed', { ...byAmount, status: 'failed', failure_reason: 'lost_or_stolen_card' }, { created: t + 40 }));

    expect(await drain(t + 41)).toBe(2);
    expect((await refundRows(p.id)).map((r) => `${r.status} ${r.last_error}`)).toEqual(['skipped refund_failed', 'skipped refund_failed']);
    expect(mailsTo(p.recipient, 'Refund of')).toEqual([]);
  });

  const refundFailed = (refund: Json, at: number) => paymentEvent('refund.failed', { ...refund, status: 'failed', failure_reason: 'lost_or_stolen_card' }, { created: at });
  const rowsOf = async (invoiceId: string) => (await refundRows(invoiceId)).map((r) => `${r.subject} ${r.status}${r.last_error ? ` ${r.last_error}` : ''}`);

  it.each([
    ['charge.refunded first', true],
    ['refund.created first', false],
  ])('a refund that failed once its amount was told, withdrawn by the mailer, then tried again (%s): the retry is emailed, once', async (_name, amountFirst) => {
    const t = wallNow() - 3600;
    const p = await paidAndReceipted(t);
    const first = p.refund(1000, t + 100, 'pending');
    clock = t + 100;
    await apply(p.chargeRefunded(1000, t + 100));
    clock = t + 150;
    await apply(refundFailed(first, t + 150));
    expect(await drain(t + 151)).toBe(1);
    expect(await rowsOf(p.id)).toEqual([`charge:${p.chargeId}:1000 skipped refund_failed`]);

    // Stripe gave the failed refund's amount back; the merchant refunds the same again.
    const again = p.refund(1000, t + 200);
    clock = t + 200;
    const pair = [p.chargeRefunded(1000, t + 200), refundCreated(again, t + 200)];
    for (const e of amountFirst ? pair : [...pair].reverse()) await apply(e);
    expect(await drain(t + 201)).toBe(1);
    expect(await drain(t + 3600)).toBe(0);

    const mails = mailsTo(p.recipient, 'Refund of');
    expect(mails.map((m) => m.subject)).toEqual([`Refund of $10.00 for invoice ${p.number} from Acme Billing`]);
    expect(mails[0]!.text).toContain(`Invoice: ${p.number}\nAmount refunded: $10.00\n`);
    expect(await rowsOf(p.id)).toEqual([`charge:${p.chargeId}:1000 skipped refund_failed`, `refund:${again['id']} sent`]);
  });

  it.each([
    ['charge.refunded first', true],
    ['refund.created first', false],
  ])('a refund that failed, then a smaller one, both before the mailer looks (%s): only the second is emailed', async (_name, amountFirst) => {
    const t = wallNow() - 3600;
    const p = await paidAndReceipted(t);
    const first = p.refund(1000, t + 100, 'pending');
    clock = t + 100;
    await apply(p.chargeRefunded(1000, t + 100));
    clock = t + 150;
    await apply(refundFailed(first, t + 150));
    const again = p.refund(400, t + 200);
    clock = t + 200;
    const pair = [p.chargeRefunded(400, t + 200), refundCreated(again, t + 200)];
    for (const e of amountFirst ? pair : [...pair].reverse()) await apply(e);
    expect(await drain(t + 201)).toBe(2);

    expect(mailsTo(p.recipient, 'Refund of').map((m) => m.subject)).toEqual([`Refund of $4.00 for invoice ${p.number} from Acme Billing`]);
    expect(await rowsOf(p.id)).toEqual([`charge:${p.chargeId}:1000 skipped refund_failed`, `refund:${again['id']} sent`]);
  });

  it.each([
    ['charge.refunded first', true],
    ['refund.created first', false],
  ])("a refund told by its own row that failed before the email left, then another refund (%s): the other is emailed", async (_name, amountFirst) => {
    const t = wallNow() - 3600;
    const p = await paidAndReceipted(t);
    const first = p.refund(1000, t + 100, 'pending');
    clock = t + 100;
    await apply(refundCreated(first, t + 100));
    await apply(p.chargeRefunded(1000, t + 100));
    clock = t + 150;
    await apply(refundFailed(first, t + 150));
    expect(await drain(t + 151)).toBe(1);
    expect(await rowsOf(p.id)).toEqual([`refund:${first['id']} skipped refund_failed`]);

    const again = p.refund(1000, t + 200);
    clock = t + 200;
    const pair = [p.chargeRefunded(1000, t + 200), refundCreated(again, t + 200)];
    for (const e of amountFirst ? pair : [...pair].reverse()) await apply(e);
    expect(await drain(t + 201)).toBe(1);
    expect(mailsTo(p.recipient, 'Refund of').map((m) => m.subject)).toEqual([`Refund of $10.00 for invoice ${p.number} from Acme Billing`]);
    expect(await rowsOf(p.id)).toEqual([`refund:${first['id']} skipped refund_failed`, `refund:${again['id']} sent`]);
  });

  it('a refund that awaits the customer\'s action before its email leaves: held, not withdrawn, and sent once it goes ahead', async () => {
    const t = wallNow() - 3600;
    const p = await paidAndReceipted(t);
    const refund = p.refund(300, t + 10, 'pending');
    clock = t + 10;
    await apply(refundCreated(refund, t + 10));
    await apply(paymentEvent('refund.updated', { ...refund, status: 'requires_action' }, { created: t + 11 }));

    // Looked at and put off: the row stays pending, neither sent nor withdrawn.
    expect(await drain(t + 12)).toBe(1);
    expect((await refundRows(p.id)).map((r) => `${r.subject} ${r.status} ${r.last_error}`)).toEqual([`refund:${refund['id']} pending null`]);
    expect(mailsTo(p.recipient, 'Refund of')).toEqual([]);

    clock = t + 20;
    await apply(paymentEvent('refund.updated', { ...refund, status: 'succeeded' }, { created: t + 20 }));
    // Not before the hour it was put off by; then once.
    expect(await drain(t + 30)).toBe(0);
    expect(await drain(t + 12 + REFUND_ACTION_RECHECK_SECONDS)).toBe(1);
    const [mail] = mailsTo(p.recipient, 'Refund of');
    expect(mail!.text).toContain('$3.00');
    expect((await refundRows(p.id)).map((r) => `${r.subject} ${r.status}`)).toEqual([`refund:${refund['id']} sent`]);
  });

  it('a refund of a charge of no invoice (a one-off Checkout payment): no email, no row', async () => {
    const t = wallNow() - 3600;
    const chargeId = uid('ch');
    const pi = uid('pi');
    const refund = refundObject(chargeId, { amount: 500, created: t + 10, paymentIntent: pi });
    clock = t + 10;
    await apply(paymentEvent('charge.succeeded', chargeObject({ id: chargeId, paymentIntent: pi, created: t }), { created: t }));
    await apply(refundCreated(refund, t + 10));
    await apply(paymentEvent('charge.refunded', chargeObject({ id: chargeId, paymentIntent: pi, created: t, amountRefunded: 500 }), { created: t + 10 }));
    expect(await db.ds.query(`SELECT id FROM email_notices WHERE subject LIKE $1 OR subject LIKE $2`, [`%${chargeId}%`, `%${refund['id'] as string}%`])).toEqual([]);
    expect(await drain(t + 11)).toBe(0);
  });

  it('a refund seen before its charge was linked to the invoice is told when the link is made, after the receipt', async () => {
    const t = wallNow() - 3600;
    const p = paidInvoice(t);
    clock = t - 600;
    await apply(p.finalized);
    expect(await drain(t - 599)).toBe(1);
    smtp.clear();

    // The charge and its refund first; nothing says which invoice they belong to yet.
    const refund = p.refund(150, t + 20);
    clock = t + 20;
    await apply(p.chargeSucceeded);
    await apply(refundCreated(refund, t + 20));
    await apply(p.chargeRefunded(150, t + 20));
    expect(await refundRows(p.id)).toEqual([]);

    clock = t + 30;
    await apply(p.paid);
    await apply(p.paymentPaid);
    expect((await refundRows(p.id)).map((r) => `${r.subject} ${r.status}`)).toEqual([`refund:${refund['id']} pending`]);
    expect(await drain(t + 31)).toBe(2);
    expect(smtp.to(p.recipient).map((m) => m.subject)).toEqual([`Receipt for invoice ${p.number} from Acme Billing`, `Refund of $1.50 for invoice ${p.number} from Acme Billing`]);
    expect(smtp.to(p.recipient)[0]!.text).toContain(`Receipt: ${p.receiptUrl}\n`);
  });

  it('a refund linked days after it was made is old news: recorded as stale, not sent', async () => {
    const t = wallNow() - 10 * DAY;
    const p = paidInvoice(t);
    const refund = p.refund(150, t + 20);
    clock = t + 20;
    await apply(p.chargeSucceeded);
    await apply(refundCreated(refund, t + 20));
    clock = wallNow();
    await apply(p.paymentPaid);
    expect((await refundRows(p.id)).map((r) => `${r.subject} ${r.status} ${r.last_error}`)).toEqual([`refund:${refund['id']} skipped stale`]);
  });

  it('NOTICE_KINDS without refund_issued: no refund email, the other notices as usual', async () => {
    const t = wallNow() - 3600;
    const p = paidInvoice(t);
    clock = t;
    for (const e of [p.finalized, p.paid, p.paymentPaid, p.chargeSucceeded, refundCreated(p.refund(300, t + 5), t + 5), p.chargeRefunded(300, t + 5)]) await apply(e, WITHOUT_REFUNDS);
    expect((await noticeRows(db.ds, [p.id])).map((r) => r.kind)).toEqual(['invoice_issued', 'invoice_paid']);
    expect(await drain(t + 6)).toBe(2);
    // The invoice email is no longer true (paid before it left); the receipt goes.
    expect(smtp.to(p.recipient).map((m) => m.subject)).toEqual([`Receipt for invoice ${p.number} from Acme Billing`]);
  });
});

describe('an invoice payment looks again only at the charges of its own payment', () => {
  /** The notice effects, with the charges each review of the money kinds looks at written down. */
  function recordingReviews(): { effects: NoticeEffects; reviewed: string[][] } {
    const base = noticeEffects(ALL_NOTICES);
    const reviewed: string[][] = [];
    const effects: NoticeEffects = Object.assign((...args: Parameters<NoticeEffects>) => base(...args), {
      payments: (...args: Parameters<NoticeEffects['payments']>) => {
        reviewed.push(args[1].map((r) => r.chargeId));
        return base.payments(...args);
      },
    });
    return { effects, reviewed };
  }

  it("a second payment of the invoice reviews its own charge, not the first payment's, whose payment lock it does not hold", async () => {
    const t = wallNow() - 3600;
    const p = paidInvoice(t);
    await issuedAndPaid(p, t);
    const pi = uid('pi');
    const chargeId = uid('ch');
    clock = t + 10;
    await apply(paymentEvent('charge.succeeded', chargeObject({ id: chargeId, paymentIntent: pi, amount: 500, created: t + 10 }), { created: t + 10 }));

    const { effects, reviewed } = recordingReviews();
    const second = paymentEvent('invoice_payment.paid', invoicePaymentObject(p.id, { paymentIntent: pi, amount: 500, created: t + 9 }), { created: t + 10 });
    await applyEvent(db.ds, JSON.stringify(second), { nowSeconds: () => clock, effects: { notices: effects } });
    expect(reviewed).toEqual([[chargeId]]);
    expect(await db.ds.query(`SELECT stripe_charge_id FROM charges WHERE stripe_invoice_id = $1 ORDER BY created_at`, [p.id])).toEqual([{ stripe_charge_id: p.chargeId }, { stripe_charge_id: chargeId }]);

    // A payment out of band names no payment: no charge is looked at.
    const outOfBand = paymentEvent('invoice_payment.paid', invoicePaymentObject(p.id, { payment: { type: 'out_of_band_payment' }, created: t + 11 }), { created: t + 11 });
    await applyEvent(db.ds, JSON.stringify(outOfBand), { nowSeconds: () => clock, effects: { notices: effects } });
    expect(reviewed).toEqual([[chargeId], []]);
    expect(await drain(t + 12)).toBe(1);
  });
});

describe('the receipt of an invoice', () => {
  it('is the receipt of its latest succeeded charge that has one, as finance_invoice_rows shows it', async () => {
    const t = wallNow() - 3600;
    const p = paidInvoice(t);
    clock = t;
    await apply(p.finalized);
    await apply(p.paid);
    const financeReceipt = async () => ((await db.ds.query(`SELECT receipt_url FROM finance_invoice_rows WHERE invoice_id = $1`, [p.id])) as { receipt_url: string | null }[])[0]!.receipt_url;
    const receipt = () => db.ds.transaction((m) => receiptOfInvoice(m, p.id));
    expect(await receipt()).toEqual({ receiptUrl: null, charged: false });

    const charge = (id: string, created: number, o: { status?: string; receiptUrl?: string | null } = {}) => {
      const c = chargeObject({ id, paymentIntent: p.pi, created, ...(o.status ? { status: o.status } : {}) });
      return paymentEvent(`charge.${o.status ?? 'succeeded'}`, o.receiptUrl === undefined ? c : { ...c, receipt_url: o.receiptUrl }, { created });
    };
    await apply(p.paymentPaid);
    // A failed attempt: no receipt, nothing charged.
    await apply(charge(uid('ch'), t + 1, { status: 'failed' }));
    expect(await receipt()).toEqual({ receiptUrl: null, charged: false });
    // Charged, without a receipt link yet.
    const first = uid('ch');
    await apply(charge(first, t + 2, { receiptUrl: null }));
    expect(await receipt()).toEqual({ receiptUrl: null, charged: true });
    expect(await financeReceipt()).toBeNull();
    // Its receipt link comes with a later event.
    await apply(charge(first, t + 3));
    expect(await receipt()).toEqual({ receiptUrl: `https://pay.stripe.com/receipts/payment/${first}`, charged: true });
    // A later charge with one, then a still later one without.
    const second = uid('ch');
    await apply(charge(second, t + 4));
    await apply(charge(uid('ch'), t + 5, { receiptUrl: null }));
    expect(await receipt()).toEqual({ receiptUrl: `https://pay.stripe.com/receipts/payment/${second}`, charged: true });
    expect(await financeReceipt()).toBe(`https://pay.stripe.com/receipts/payment/${second}`);
    // The invoice email (no longer true: paid) and the receipt, with that link.
    expect(await drain(t + 6)).toBe(2);
    expect(mailsTo(p.recipient, 'Receipt for invoice')[0]!.text).toContain(`Receipt: https://pay.stripe.com/receipts/payment/${second}\n`);
  });
});

describe('billing import of a refunded invoice', () => {
  it('records its refund as imported, sends nothing, and a later refund is mailed', async () => {
    const stripe: Stripe = createStripeClient({ secretKey: 'sk_test_moneyemails0123456789', apiBase: api.url }, 'import');
    const now = wallNow();
    const created = now - 5 * DAY;
    const id = uid('in');
    const pi = uid('pi');
    const recipient = `ap.${id.slice(-8)}@customer.test`;
    api.invoices.put(
      invoiceObject({
        id,
        created,
        status: 'paid',
        customer_email: recipient,
        number: `INV-${id.slice(-6)}`,
        amount_due: 2000,
        amount_paid: 2000,
        amount_remaining: 0,
        total: 2000,
        status_transitions: { finalized_at: created + 10, paid_at: created + 60, voided_at: null, marked_uncollectible_at: null },
      }),
    );
    api.invoicePayments.put(apiObjects.invoicePaymentObject(id, { created: created + 10, amount_requested: 2000, amount_paid: 2000, payment: { type: 'payment_intent', payment_intent: pi }, status: 'paid', status_transitions: { canceled_at: null, paid_at: created + 60 } }));
    const chargeId = uid('ch');
    const refund = apiObjects.refundObject(chargeId, { amount: 800, created: now - 2 * DAY, payment_intent: pi });
    const charge = apiObjects.chargeObject({ id: chargeId, payment_intent: pi, amount: 2000, amount_captured: 2000, amount_refunded: 800, created: created + 60, refunds: { object: 'list', data: [refund], has_more: false, url: `/v1/charges/${chargeId}/refunds` } });
    api.charges.put(charge);

    const result = await importInvoices({ stripe, ds: db.ds, effects: noticeEffects(ALL_NOTICES), logger: { warn: () => undefined }, backoff: { baseMs: 1 }, nowSeconds: () => now }, { since: new Date((now - 30 * DAY) * 1000) });
    expect(result).toMatchObject({ inserted: 1, noticesQueued: 0 });
    expect((await refundRows(id)).map((r) => `${r.subject} ${r.status} ${r.last_error}`)).toEqual([`refund:${refund['id'] as string} skipped imported`]);
    expect(await drain(now + 1)).toBe(0);
    expect(smtp.to(recipient)).toEqual([]);

    // A refund after the import is news.
    clock = now + 60;
    const later = refundObject(chargeId, { amount: 200, created: now + 60, paymentIntent: pi });
    await apply(refundCreated(later, now + 60));
    await apply(paymentEvent('charge.refunded', { ...charge, amount_refunded: 1000, refunds: undefined }, { created: now + 60 }));
    expect(await drain(now + 61)).toBe(1);
    expect(smtp.to(recipient).map((m) => m.subject)).toEqual([`Refund of $2.00 for invoice INV-${id.slice(-6)} from Acme Billing`]);
  });
});
