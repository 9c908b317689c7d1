import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { uid } from '../support/stripe-events';
import { applyAll, chargeEvent, creditNoteCreated, invoiceEvent, paymentPaid, refundEvent } from './money-events';
import { insertCharge, insertCreditNote, insertInvoicePayment, insertRefund } from './money-rows';
import { insertInvoice } from './rows';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db.drop();
});

type Row = Record<string, unknown>;
const T = 1_767_000_000;

const invoiceRows = (id: string): Promise<Row[]> => db.ds.query(`SELECT * FROM finance_invoices WHERE invoice_id = $1`, [id]);
const paymentRows = (id: string): Promise<Row[]> => db.ds.query(`SELECT * FROM finance_payments WHERE invoice_id = $1 ORDER BY created_at, invoice_payment_id`, [id]);
const creditNoteRows = (id: string): Promise<Row[]> => db.ds.query(`SELECT * FROM finance_credit_notes WHERE invoice_id = $1 ORDER BY created_at, credit_note_id`, [id]);

/**
 * A paid invoice of 100.00 (after a 5.00 pre-payment credit note) paid in two parts: 60.00 by a
 * first payment intent (its charge later refunded 10.00, matched by a 10.00 post-payment credit
 * note), and 40.00 by a second whose first attempt failed. A third credit note was voided.
 */
function twoPaymentsTwoCreditNotes() {
  const inv = uid('in');
  const [pi1, pi2] = [uid('pi'), uid('pi')];
  const ids = { inv, pi1, pi2, pay1: uid('inpay'), pay2: uid('inpay'), ch1: uid('ch'), ch2failed: uid('ch'), ch2: uid('ch'), re1: uid('re'), cnPre: uid('cn'), cnPost: uid('cn'), cnVoid: uid('cn') };
  const events = [
    invoiceEvent(inv, { status: 'paid', amountDue: 10000, created: T, number: `INV-${inv.slice(-6)}` }),
    creditNoteCreated({ id: ids.cnPre, invoice: inv, type: 'pre_payment', total: 500, created: T + 2 }),
    paymentPaid(inv, { id: ids.pay1, paymentIntent: pi1, amount: 6000, created: T + 10 }),
    chargeEvent({ id: ids.ch1, paymentIntent: pi1, amount: 6000, created: T + 10 }),
    chargeEvent({ id: ids.ch2failed, paymentIntent: pi2, amount: 4000, created: T + 20, status: 'failed' }),
    paymentPaid(inv, { id: ids.pay2, paymentIntent: pi2, amount: 4000, created: T + 20 }),
    chargeEvent({ id: ids.ch2, paymentIntent: pi2, amount: 4000, created: T + 30 }),
    refundEvent({ id: ids.re1, charge: ids.ch1, paymentIntent: pi1, amount: 1000, created: T + 40 }),
    chargeEvent({ id: ids.ch1, paymentIntent: pi1, amount: 6000, created: T + 10, amountRefunded: 1000 }),
    creditNoteCreated({ id: ids.cnPost, invoice: inv, type: 'post_payment', total: 1000, created: T + 40 }),
    creditNoteCreated({ id: ids.cnVoid, invoice: inv, type: 'post_payment', total: 700, status: 'void', created: T + 50 }),
  ];
  return { ids, events };
}

/** What finance sees of the scenario, with its ids replaced by their roles, so runs with fresh ids compare. */
async function financeView(ids: Record<string, string>): Promise<unknown> {
  // Numbers are made of an id's last six characters (INV-1a2b3c, CN-1A2B3C): those stand for the role too.
  const role = new Map(Object.entries(ids).flatMap(([k, v]) => [[v, k] as const, [v.slice(-6), k] as const, [v.slice(-6).toUpperCase(), k] as const]));
  const anonymize = (rows: Row[]) =>
    rows.map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => {
          if (typeof v !== 'string') return [k, v];
          let s = v;
          for (const [id, name] of role) s = s.split(id).join(`<${name}>`);
          return [k, s];
        }),
      ),
    );
  return { invoice: anonymize(await invoiceRows(ids['inv']!)), payments: anonymize(await paymentRows(ids['inv']!)), creditNotes: anonymize(await creditNoteRows(ids['inv']!)) };
}

describe('finance_invoices with payments, refunds and credit notes', () => {
  it('keeps one row for an invoice with two payments, three charges and three credit notes, summing each once', async () => {
    const { ids, events } = twoPaymentsTwoCreditNotes();
    await applyAll(db.ds, events);

    const rows = await invoiceRows(ids.inv);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      amount_paid_cents: '10000',
      amount_refunded_cents: '1000',
      amount_refunded: '10.00',
      // Issued only: the pre-payment 5.00 and the post-payment 10.00, not the voided 7.00.
      amount_credited_cents: '1500',
      amount_credited: '15.00',
      net_collected_cents: '9000',
      net_collected: '90.00',
      // The latest succeeded charge's; the failed attempt has none.
      receipt_url: `https://pay.stripe.com/receipts/payment/${ids.ch2}`,
    });
  });

  it('lists each payment once with its own charge, receipt, refunds and method', async () => {
    const { ids, events } = twoPaymentsTwoCreditNotes();
    await applyAll(db.ds, events);

    const payments = await paymentRows(ids.inv);
    expect(payments).toEqual([
      expect.objectContaining({
        invoice_payment_id: ids.pay1,
        invoice_number: `INV-${ids.inv.slice(-6)}`,
        customer_id: 'cus_money',
        status: 'paid',
        amount_paid_cents: '6000',
        amount_paid: '60.00',
        amount_requested: '60.00',
        payment_intent_id: ids.pi1,
        charge_id: ids.ch1,
        charge_status: 'succeeded',
        payment_method_type: 'card',
        receipt_url: `https://pay.stripe.com/receipts/payment/${ids.ch1}`,
        amount_refunded_cents: '1000',
        amount_refunded: '10.00',
        refund_count: 1,
        currency: 'usd',
        created_at: new Date((T + 10) * 1000),
        paid_at: new Date((T + 11) * 1000),
        canceled_at: null,
      }),
      // The succeeded charge of the payment intent, not its earlier failed attempt.
      expect.objectContaining({ invoice_payment_id: ids.pay2, charge_id: ids.ch2, charge_status: 'succeeded', failure_code: null, amount_refunded_cents: '0', refund_count: 0 }),
    ]);
  });

  it('lists each credit note once with its invoice number, its split and its status', async () => {
    const { ids, events } = twoPaymentsTwoCreditNotes();
    await applyAll(db.ds, events);

    const notes = await creditNoteRows(ids.inv);
    expect(notes.map((n) => [n['credit_note_id'], n['status'], n['type'], n['total'], n['pre_payment_amount'], n['post_payment_amount']])).toEqual([
      [ids.cnPre, 'issued', 'pre_payment', '5.00', '5.00', '0.00'],
      [ids.cnPost, 'issued', 'post_payment', '10.00', '0.00', '10.00'],
      [ids.cnVoid, 'void', 'post_payment', '7.00', '0.00', '7.00'],
    ]);
    expect(notes[0]).toMatchObject({
      invoice_number: `INV-${ids.inv.slice(-6)}`,
      customer_id: 'cus_money',
      total_cents: '500',
      currency: 'usd',
      pdf_url: `https://pay.stripe.com/credit_notes/${ids.cnPre}/pdf`,
      created_at: new Date((T + 2) * 1000),
      voided_at: null,
      livemode: false,
    });
    expect(notes[2]!['voided_at']).toEqual(new Date((T + 110) * 1000));
  });

  it('shows the same rows whatever order the events arrive in', async () => {
    const chronological = twoPaymentsTwoCreditNotes();
    await applyAll(db.ds, chronological.events);
    const expected = await financeView(chronological.ids);

    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray([...chronological.events.keys()], { minLength: chronological.events.length }), async (order) => {
        const run = twoPaymentsTwoCreditNotes();
        await applyAll(db.ds, order.map((i) => run.events[i]!));
        expect(await financeView(run.ids)).toEqual(expected);
      }),
      { numRuns: 12 },
    );
  });
});

describe('what is known so far', () => {
  it('shows nothing refunded and no receipt while the charge is not linked to the invoice, and both once its payment arrives', async () => {
    const inv = uid('in');
    const [pi, ch] = [uid('pi'), uid('ch')];
    await applyAll(db.ds, [invoiceEvent(inv, { status: 'paid', amountDue: 5000, created: T }), chargeEvent({ id: ch, paymentIntent: pi, amount: 5000, created: T, amountRefunded: 1200 })]);
    expect((await invoiceRows(inv))[0]).toMatchObject({ amount_refunded_cents: '0', net_collected_cents: '5000', receipt_url: null });

    await applyAll(db.ds, [paymentPaid(inv, { id: uid('inpay'), paymentIntent: pi, amount: 5000, created: T })]);
    expect((await invoiceRows(inv))[0]).toMatchObject({ amount_refunded_cents: '1200', net_collected_cents: '3800', receipt_url: `https://pay.stripe.com/receipts/payment/${ch}` });
  });

  it('keeps a payment and a credit note whose invoice is not stored yet, and names the invoice once it is', async () => {
    const inv = uid('in');
    const [pi, ch, pay, cn] = [uid('pi'), uid('ch'), uid('inpay'), uid('cn')];
    await applyAll(db.ds, [
      paymentPaid(inv, { id: pay, paymentIntent: pi, amount: 2500, created: T }),
      chargeEvent({ id: ch, paymentIntent: pi, amount: 2500, created: T }),
      creditNoteCreated({ id: cn, invoice: inv, type: 'post_payment', total: 300, created: T + 5 }),
    ]);
    expect(await invoiceRows(inv)).toEqual([]);
    // The customer comes from the charge until the invoice is known.
    expect(await paymentRows(inv)).toEqual([expect.objectContaining({ invoice_payment_id: pay, invoice_number: null, customer_name: null, customer_id: 'cus_test', charge_id: ch })]);
    expect(await creditNoteRows(inv)).toEqual([expect.objectContaining({ credit_note_id: cn, invoice_number: null, total_cents: '300' })]);

    await applyAll(db.ds, [invoiceEvent(inv, { status: 'paid', amountDue: 2500, created: T, number: 'LATE-0001', customer: 'cus_late' })]);
    expect(await paymentRows(inv)).toEqual([expect.objectContaining({ invoice_number: 'LATE-0001', customer_id: 'cus_late' })]);
    expect(await creditNoteRows(inv)).toEqual([expect.objectContaining({ invoice_number: 'LATE-0001' })]);
    expect(await invoiceRows(inv)).toEqual([expect.objectContaining({ amount_credited_cents: '300', receipt_url: `https://pay.stripe.com/receipts/payment/${ch}` })]);
  });

  it('links a charge that names its invoice itself (API versions before 2025-03-31), without an invoice payment', async () => {
    const inv = uid('in');
    const ch = uid('ch');
    await applyAll(db.ds, [invoiceEvent(inv, { status: 'paid', amountDue: 3000, created: T }), chargeEvent({ id: ch, paymentIntent: null, amount: 3000, created: T, amountRefunded: 3000, oldLayoutInvoice: inv })]);
    expect((await invoiceRows(inv))[0]).toMatchObject({ amount_refunded_cents: '3000', net_collected_cents: '0', net_collected: '0.00', receipt_url: `https://pay.stripe.com/receipts/payment/${ch}` });
    expect(await paymentRows(inv)).toEqual([]);
  });

  it('counts a refund that failed neither in the payment’s refunds nor, once the charge gives it back, in the amount refunded', async () => {
    const inv = uid('in');
    const [pi, ch] = [uid('pi'), uid('ch')];
    await applyAll(db.ds, [
      invoiceEvent(inv, { status: 'paid', amountDue: 4000, created: T }),
      paymentPaid(inv, { id: uid('inpay'), paymentIntent: pi, amount: 4000, created: T }),
      chargeEvent({ id: ch, paymentIntent: pi, amount: 4000, created: T }),
      refundEvent({ id: uid('re'), charge: ch, paymentIntent: pi, amount: 500, created: T + 50, status: 'failed' }),
      refundEvent({ id: uid('re'), charge: ch, paymentIntent: pi, amount: 700, created: T + 60 }),
      chargeEvent({ id: ch, paymentIntent: pi, amount: 4000, created: T, amountRefunded: 700 }),
    ]);
    expect(await paymentRows(inv)).toEqual([expect.objectContaining({ refund_count: 1, amount_refunded_cents: '700' })]);
    expect((await invoiceRows(inv))[0]).toMatchObject({ amount_refunded_cents: '700', net_collected_cents: '3300' });
  });

  it('gives an invoice with no money behind it zeros and no receipt, not nulls', async () => {
    const inv = uid('in');
    await applyAll(db.ds, [invoiceEvent(inv, { amountDue: 1000, created: T })]);
    expect((await invoiceRows(inv))[0]).toMatchObject({
      amount_refunded_cents: '0',
      amount_refunded: '0.00',
      amount_credited_cents: '0',
      amount_credited: '0.00',
      net_collected_cents: '0',
      net_collected: '0.00',
      receipt_url: null,
    });
  });
});

describe('major units', () => {
  it.each([
    ['jpy', 1500, '1500'],
    ['kwd', 1500, '1.500'],
    ['usd', 1505, '15.05'],
  ])('scales %s amounts by the currency exponent', async (currency, minor, major) => {
    const inv = uid('in');
    const [pi, ch, cn] = [uid('pi'), uid('ch'), uid('cn')];
    await applyAll(db.ds, [
      invoiceEvent(inv, { status: 'paid', amountDue: 100000, currency, created: T }),
      paymentPaid(inv, { id: uid('inpay'), paymentIntent: pi, amount: 100000, created: T, currency }),
      chargeEvent({ id: ch, paymentIntent: pi, amount: 100000, created: T, amountRefunded: minor, currency }),
      creditNoteCreated({ id: cn, invoice: inv, type: 'post_payment', total: minor, created: T + 5, currency }),
    ]);
    expect((await invoiceRows(inv))[0]).toMatchObject({ amount_refunded: major, amount_credited: major });
    expect((await paymentRows(inv))[0]).toMatchObject({ amount_refunded: major });
    expect((await creditNoteRows(inv))[0]).toMatchObject({ total: major, post_payment_amount: major });
  });
});

describe('receivables_aging with a pre-payment credit note', () => {
  // Stripe lowers amount_due and amount_remaining by a pre-payment credit note itself: counted once.
  it('shows the 70.00 Stripe says remains of a 100.00 invoice credited 30.00 before payment, not 40.00', async () => {
    const inv = uid('in');
    const currency = 'nok';
    const dueDate = Math.floor(Date.now() / 1000) - 10 * 86400;
    await applyAll(db.ds, [
      invoiceEvent(inv, { total: 10000, amountDue: 7000, amountRemaining: 7000, currency, dueDate, created: T }),
      creditNoteCreated({ id: uid('cn'), invoice: inv, type: 'pre_payment', total: 3000, currency, created: T + 5 }),
    ]);

    expect((await invoiceRows(inv))[0]).toMatchObject({ amount_remaining: '70.00', amount_credited: '30.00', display_status: 'overdue' });
    const aging: Row[] = await db.ds.query(`SELECT bucket, invoice_count, open_amount_cents, open_amount FROM receivables_aging WHERE currency = $1 AND open_amount_cents > 0`, [currency]);
    expect(aging).toEqual([{ bucket: '1-30', invoice_count: 1, open_amount_cents: '7000', open_amount: '70.00' }]);
    const asOf: Row[] = await db.ds.query(`SELECT bucket, open_amount_cents FROM finance_receivables_aging_as_of(now()) WHERE currency = $1 AND open_amount_cents > 0`, [currency]);
    expect(asOf).toEqual([{ bucket: '1-30', open_amount_cents: '7000' }]);
  });
});

describe('links the charges repository has not written', () => {
  it('counts a charge once that is reached by its own invoice field, its payment’s charge id and its payment intent', async () => {
    const inv = await insertInvoice(db.ds, { status: 'paid', amountCents: 5000, amountPaidCents: 5000 });
    const [pi, ch] = [uid('pi'), uid('ch')];
    await insertCharge(db.ds, { id: ch, invoiceId: inv, paymentIntentId: pi, amountCents: 5000, refundedCents: 1000 });
    await insertInvoicePayment(db.ds, { id: uid('inpay'), invoiceId: inv, paymentIntentId: pi, chargeId: ch, amountCents: 5000 });
    expect(await invoiceRows(inv)).toEqual([expect.objectContaining({ amount_refunded_cents: '1000', net_collected_cents: '4000' })]);
    const links: Row[] = await db.ds.query(`SELECT charge_id FROM finance_invoice_charges WHERE invoice_id = $1`, [inv]);
    expect(links).toEqual([{ charge_id: ch }]);
  });

  it('reaches a charge that names no invoice through the payment intent of the invoice’s payment', async () => {
    const inv = await insertInvoice(db.ds, { status: 'paid', amountCents: 5000, amountPaidCents: 5000 });
    const [pi, ch] = [uid('pi'), uid('ch')];
    await insertCharge(db.ds, { id: ch, paymentIntentId: pi, amountCents: 5000, refundedCents: 250 });
    await insertInvoicePayment(db.ds, { id: uid('inpay'), invoiceId: inv, paymentIntentId: pi, amountCents: 5000 });
    expect(await invoiceRows(inv)).toEqual([expect.objectContaining({ amount_refunded_cents: '250', receipt_url: `https://pay.stripe.com/receipts/${ch}` })]);
    expect(await paymentRows(inv)).toEqual([expect.objectContaining({ charge_id: ch, amount_refunded_cents: '250' })]);
  });

  it('takes nothing from a canceled invoice payment’s payment intent', async () => {
    const inv = await insertInvoice(db.ds, { status: 'open', amountCents: 5000 });
    const [pi, ch] = [uid('pi'), uid('ch')];
    await insertCharge(db.ds, { id: ch, paymentIntentId: pi, amountCents: 5000, refundedCents: 5000 });
    await insertInvoicePayment(db.ds, { id: uid('inpay'), invoiceId: inv, paymentIntentId: pi, status: 'canceled', amountCents: 0 });
    expect(await invoiceRows(inv)).toEqual([expect.objectContaining({ amount_refunded_cents: '0', receipt_url: null })]);
  });

  it('shows an open payment with no charge yet, and a refund known before its charge', async () => {
    const inv = await insertInvoice(db.ds, { amountCents: 5000 });
    const [pi, pay] = [uid('pi'), uid('inpay')];
    await insertInvoicePayment(db.ds, { id: pay, invoiceId: inv, paymentIntentId: pi, status: 'open', amountCents: 0, requestedCents: 5000 });
    await insertRefund(db.ds, { id: uid('re'), paymentIntentId: pi, chargeId: uid('ch') });
    expect(await paymentRows(inv)).toEqual([
      expect.objectContaining({ invoice_payment_id: pay, status: 'open', amount_paid_cents: '0', amount_requested: '50.00', charge_id: null, charge_status: null, receipt_url: null, amount_refunded_cents: '0', refund_count: 1 }),
    ]);
  });

  it('takes the latest of two succeeded charges’ receipts, and sums both refunds', async () => {
    const inv = await insertInvoice(db.ds, { status: 'paid', amountCents: 5000, amountPaidCents: 5000 });
    const [older, newer] = [uid('ch'), uid('ch')];
    await insertCharge(db.ds, { id: older, invoiceId: inv, createdAt: '2026-01-01T00:00:00Z', refundedCents: 100 });
    await insertCharge(db.ds, { id: newer, invoiceId: inv, createdAt: '2026-01-02T00:00:00Z', refundedCents: 200 });
    await insertCharge(db.ds, { id: uid('ch'), invoiceId: inv, status: 'failed', createdAt: '2026-01-03T00:00:00Z' });
    expect(await invoiceRows(inv)).toEqual([expect.objectContaining({ amount_refunded_cents: '300', receipt_url: `https://pay.stripe.com/receipts/${newer}` })]);
  });

  it('gives a credit note’s out-of-band part and a void credit note nothing credited', async () => {
    const inv = await insertInvoice(db.ds, { status: 'paid', amountCents: 5000, amountPaidCents: 5000 });
    const cn = uid('cn');
    await insertCreditNote(db.ds, { id: cn, invoiceId: inv, totalCents: 1200, outOfBandCents: 1200 });
    await insertCreditNote(db.ds, { id: uid('cn'), invoiceId: inv, totalCents: 800, status: 'void' });
    expect(await invoiceRows(inv)).toEqual([expect.objectContaining({ amount_credited_cents: '1200' })]);
    expect((await creditNoteRows(inv)).find((n) => n['credit_note_id'] === cn)).toMatchObject({ out_of_band_amount_cents: '1200', out_of_band_amount: '12.00' });
  });
});
