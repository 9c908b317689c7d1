import { createTestDatabase, type TestDatabase } from '../support/database';
import { DAY, insertInvoice, MINUTE } from './rows';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db.drop();
});

async function financeRow(id: string): Promise<Record<string, unknown> | undefined> {
  const rows: Record<string, unknown>[] = await db.ds.query(`SELECT * FROM finance_invoices WHERE invoice_id = $1`, [id]);
  return rows[0];
}

describe('finance_invoices', () => {
  it('shows an open invoice not yet due as open, payable, with amounts in cents and major units', async () => {
    const id = await insertInvoice(db.ds, { customerName: 'Acme Corp', amountCents: 12345, amountPaidCents: 345, dueInSeconds: 3 * DAY });
    const row = await financeRow(id);
    expect(row).toMatchObject({
      status: 'open',
      display_status: 'open',
      amount_due_cents: '12345',
      amount_paid_cents: '345',
      amount_remaining_cents: '12000',
      amount_due: '123.45',
      amount_paid: '3.45',
      amount_remaining: '120.00',
      currency: 'usd',
      days_overdue: 0,
      customer_name: 'Acme Corp',
      pay_url: `https://invoice.stripe.com/i/${id}`,
      pdf_url: `https://pay.stripe.com/invoice/${id}/pdf`,
    });
    expect(row!['due_date']).toBeInstanceOf(Date);
  });

  it('shows an open invoice past due with money owed as overdue, counting UTC calendar days', async () => {
    const late = await insertInvoice(db.ds, { dueOnUtcDay: -3 });
    expect(await financeRow(late)).toMatchObject({ status: 'open', display_status: 'overdue', days_overdue: 3 });
    // Late since a minute ago: day 1, whether or not a UTC midnight fell in that minute.
    const justLate = await insertInvoice(db.ds, { dueInSeconds: -MINUTE });
    expect(await financeRow(justLate)).toMatchObject({ display_status: 'overdue', days_overdue: 1 });
  });

  it('does not call an invoice overdue when nothing remains to pay or it has no due date', async () => {
    const settled = await insertInvoice(db.ds, { amountCents: 500, amountPaidCents: 500, dueInSeconds: -10 * DAY });
    expect(await financeRow(settled)).toMatchObject({ display_status: 'open', days_overdue: 0, pay_url: null });
    const noDue = await insertInvoice(db.ds, { dueInSeconds: null });
    expect(await financeRow(noDue)).toMatchObject({ display_status: 'open', days_overdue: 0, due_date: null });
  });

  it.each(['paid', 'void', 'uncollectible'] as const)('shows a %s invoice past due by its status, without a pay link', async (status) => {
    const id = await insertInvoice(db.ds, { status, dueInSeconds: -40 * DAY, ...(status === 'paid' ? { amountPaidCents: 1000 } : {}) });
    expect(await financeRow(id)).toMatchObject({ status, display_status: status, days_overdue: 0, pay_url: null });
  });

  it('owes nothing on a void invoice, though Stripe keeps its amount_remaining', async () => {
    const id = await insertInvoice(db.ds, { status: 'void', amountCents: 5000, voidedAt: '2026-03-02T10:00:00Z' });
    expect(await financeRow(id)).toMatchObject({
      amount_due_cents: '5000',
      amount_remaining_cents: '0',
      amount_remaining: '0.00',
      amount_written_off_cents: '0',
      amount_written_off: '0.00',
      voided_at: new Date('2026-03-02T10:00:00Z'),
      marked_uncollectible_at: null,
    });
    const [raw]: { amount_remaining_cents: string }[] = await db.ds.query(`SELECT amount_remaining_cents FROM invoices WHERE stripe_invoice_id = $1`, [id]);
    expect(raw!.amount_remaining_cents).toBe('5000');
  });

  it('shows what an uncollectible invoice still lacked as written off, not as owed', async () => {
    const id = await insertInvoice(db.ds, { status: 'uncollectible', currency: 'kwd', amountCents: 5000, amountPaidCents: 1250, markedUncollectibleAt: '2026-03-03T10:00:00Z' });
    expect(await financeRow(id)).toMatchObject({
      amount_paid: '1.250',
      amount_remaining_cents: '0',
      amount_remaining: '0.000',
      amount_written_off_cents: '3750',
      amount_written_off: '3.750',
      marked_uncollectible_at: new Date('2026-03-03T10:00:00Z'),
    });
    // Open and paid invoices write nothing off.
    const open = await insertInvoice(db.ds, { amountCents: 5000, amountPaidCents: 1000 });
    expect(await financeRow(open)).toMatchObject({ amount_remaining_cents: '4000', amount_written_off_cents: '0', amount_written_off: '0.00' });
  });

  it('carries the invoice metadata as JSON', async () => {
    const id = await insertInvoice(db.ds, { metadata: { order: 'A-17', region: 'eu' } });
    expect((await financeRow(id))!['metadata']).toEqual({ order: 'A-17', region: 'eu' });
    expect((await financeRow(await insertInvoice(db.ds)))!['metadata']).toEqual({});
  });

  it('leaves out drafts, deleted invoices and deletion stubs', async () => {
    const draft = await insertInvoice(db.ds, { status: 'draft', number: null });
    const deleted = await insertInvoice(db.ds, { status: 'draft', deleted: true });
    const stub = await insertInvoice(db.ds, { status: 'draft', currency: null, deleted: true, customerId: null, amountCents: 0 });
    for (const id of [draft, deleted, stub]) expect(await financeRow(id)).toBeUndefined();
    // The drafts-inclusive view behind `billing invoices --status draft` still hides the deleted.
    const rows: { invoice_id: string }[] = await db.ds.query(`SELECT invoice_id FROM finance_invoice_rows WHERE invoice_id = ANY($1)`, [[draft, deleted, stub]]);
    expect(rows.map((r) => r.invoice_id)).toEqual([draft]);
  });

  it('scales major units by Stripe’s exponent: none for JPY and KRW, three for KWD', async () => {
    const jpy = await insertInvoice(db.ds, { currency: 'jpy', amountCents: 1500, amountPaidCents: 500 });
    expect(await financeRow(jpy)).toMatchObject({ amount_due_cents: '1500', amount_due: '1500', amount_paid: '500', amount_remaining: '1000' });
    const krw = await insertInvoice(db.ds, { currency: 'krw', amountCents: 1 });
    expect(await financeRow(krw)).toMatchObject({ amount_due: '1' });
    const kwd = await insertInvoice(db.ds, { currency: 'kwd', amountCents: 1500 });
    expect(await financeRow(kwd)).toMatchObject({ amount_due: '1.500' });
    // ISO gives ISK no decimals, but Stripe sends hundredths.
    const isk = await insertInvoice(db.ds, { currency: 'isk', amountCents: 1999 });
    expect(await financeRow(isk)).toMatchObject({ amount_due: '19.99' });
  });
});

describe('overdue_invoices', () => {
  it('lists only the overdue ones, oldest due first', async () => {
    const customerId = 'cus_overdueorder';
    const newer = await insertInvoice(db.ds, { customerId, dueInSeconds: -2 * DAY });
    const older = await insertInvoice(db.ds, { customerId, dueInSeconds: -20 * DAY });
    await insertInvoice(db.ds, { customerId, dueInSeconds: 2 * DAY });
    await insertInvoice(db.ds, { customerId, status: 'paid', amountPaidCents: 1000, dueInSeconds: -30 * DAY });
    const rows: { invoice_id: string; display_status: string }[] = await db.ds.query(
      `SELECT invoice_id, display_status FROM overdue_invoices WHERE customer_id = $1`,
      [customerId],
    );
    expect(rows).toEqual([
      { invoice_id: older, display_status: 'overdue' },
      { invoice_id: newer, display_status: 'overdue' },
    ]);
  });
});

describe('view comments', () => {
  it('document the day count and the amounts as the views compute them', async () => {
    const comment = async (sql: string) => ((await db.ds.query(`SELECT ${sql} AS c`)) as { c: string }[])[0]!.c;
    for (const c of [
      await comment(`obj_description('receivables_aging'::regclass, 'pg_class')`),
      await comment(`obj_description('finance_invoices'::regclass, 'pg_class')`),
      await comment(`obj_description('finance_days_past_due(timestamptz, timestamptz)'::regprocedure, 'pg_proc')`),
    ]) {
      expect(c).toMatch(/UTC calendar days/);
      expect(c).not.toMatch(/ceil|86400/);
    }
    const invoices = await comment(`obj_description('finance_invoices'::regclass, 'pg_class')`);
    expect(invoices).toMatch(/0 on a void or uncollectible invoice/);
    expect(invoices).toMatch(/amount_written_off/);
    expect(invoices).toMatch(/recipient_email/);
  });
});
