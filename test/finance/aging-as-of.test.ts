import { createTestDatabase, type TestDatabase } from '../support/database';
import { insertInvoice, type TestInvoice } from './rows';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db.drop();
});

// Month end; the invoices below were issued in October and settled (or not) around it.
const AS_OF = '2026-10-31T23:59:59Z';
const ISSUED = '2026-10-01T09:00:00Z';
const DUE = '2026-10-15T12:00:00Z'; // 16 UTC days before AS_OF: bucket 1-30

const invoices: Record<string, TestInvoice> = {
  openNow: { amountCents: 1000 },
  partlyPaidNow: { amountCents: 1000, amountPaidCents: 400 },
  paidAfter: { status: 'paid', amountCents: 2000, amountPaidCents: 2000, paidAt: '2026-11-05T10:00:00Z' },
  paidBefore: { status: 'paid', amountCents: 2000, amountPaidCents: 2000, paidAt: '2026-10-20T10:00:00Z' },
  paidAtTheMoment: { status: 'paid', amountCents: 2000, amountPaidCents: 2000, paidAt: AS_OF },
  paidWithoutMoment: { status: 'paid', amountCents: 2000, amountPaidCents: 2000, paidAt: null },
  createdAfter: { createdAt: '2026-11-01T00:00:00Z' },
  finalizedAfter: { createdAt: '2026-10-20T00:00:00Z', finalizedAt: '2026-11-01T00:00:01Z' },
  finalizedAtTheMoment: { createdAt: '2026-10-20T00:00:00Z', finalizedAt: AS_OF, amountCents: 7 },
  voidedAfter: { status: 'void', amountCents: 3000, voidedAt: '2026-11-10T00:00:00Z' },
  voidedBefore: { status: 'void', amountCents: 3000, voidedAt: '2026-10-10T00:00:00Z' },
  uncollectibleAfter: { status: 'uncollectible', amountCents: 5000, markedUncollectibleAt: '2026-11-20T00:00:00Z' },
  uncollectibleBefore: { status: 'uncollectible', amountCents: 5000, markedUncollectibleAt: '2026-10-30T00:00:00Z' },
  // Written off before the moment, paid after it: not a receivable at the moment.
  writtenOffThenPaid: { status: 'paid', amountCents: 5000, amountPaidCents: 5000, markedUncollectibleAt: '2026-10-30T00:00:00Z', paidAt: '2026-11-02T00:00:00Z' },
  draft: { status: 'draft' },
  deleted: { deleted: true },
  nothingOwed: { amountCents: 0 },
  noDueDate: { amountCents: 11, dueAt: undefined, dueInSeconds: null },
  notYetDue: { amountCents: 13, dueAt: '2026-11-15T12:00:00Z' },
  dueAtTheMoment: { amountCents: 17, dueAt: AS_OF },
  yen: { currency: 'jpy', amountCents: 150000, dueAt: '2026-08-01T12:00:00Z' }, // 91 days: 90+
  dinar: { currency: 'kwd', amountCents: 1500, dueAt: '2026-09-15T12:00:00Z' }, // 46 days: 31-60
  testMode: { livemode: false, amountCents: 100 },
};

const ids: Record<string, string> = {};
beforeAll(async () => {
  for (const [name, t] of Object.entries(invoices)) {
    ids[name] = await insertInvoice(db.ds, { createdAt: ISSUED, dueAt: DUE, ...t });
  }
});

const nameOf = (id: string) => Object.keys(ids).find((k) => ids[k] === id);

describe('finance_open_invoices_as_of', () => {
  it('lists the invoices open with money owed at the moment, with what each owed then and its age then', async () => {
    const rows: Record<string, unknown>[] = await db.ds.query(
      `SELECT invoice_id, status, livemode, currency, days_past_due, bucket, amount_due_cents, open_amount_cents, open_amount
         FROM finance_open_invoices_as_of($1) ORDER BY open_amount_cents, invoice_id`,
      [AS_OF],
    );
    expect(rows.map((r) => ({ ...r, invoice_id: nameOf(r['invoice_id'] as string) }))).toEqual([
      { invoice_id: 'finalizedAtTheMoment', status: 'open', livemode: true, currency: 'usd', days_past_due: 16, bucket: '1-30', amount_due_cents: '7', open_amount_cents: '7', open_amount: '0.07' },
      { invoice_id: 'noDueDate', status: 'open', livemode: true, currency: 'usd', days_past_due: 0, bucket: 'current', amount_due_cents: '11', open_amount_cents: '11', open_amount: '0.11' },
      { invoice_id: 'notYetDue', status: 'open', livemode: true, currency: 'usd', days_past_due: 0, bucket: 'current', amount_due_cents: '13', open_amount_cents: '13', open_amount: '0.13' },
      { invoice_id: 'dueAtTheMoment', status: 'open', livemode: true, currency: 'usd', days_past_due: 0, bucket: 'current', amount_due_cents: '17', open_amount_cents: '17', open_amount: '0.17' },
      { invoice_id: 'testMode', status: 'open', livemode: false, currency: 'usd', days_past_due: 16, bucket: '1-30', amount_due_cents: '100', open_amount_cents: '100', open_amount: '1.00' },
      // A part-payment has no date: counted as made before the moment.
      { invoice_id: 'partlyPaidNow', status: 'open', livemode: true, currency: 'usd', days_past_due: 16, bucket: '1-30', amount_due_cents: '1000', open_amount_cents: '600', open_amount: '6.00' },
      { invoice_id: 'openNow', status: 'open', livemode: true, currency: 'usd', days_past_due: 16, bucket: '1-30', amount_due_cents: '1000', open_amount_cents: '1000', open_amount: '10.00' },
      { invoice_id: 'dinar', status: 'open', livemode: true, currency: 'kwd', days_past_due: 46, bucket: '31-60', amount_due_cents: '1500', open_amount_cents: '1500', open_amount: '1.500' },
      // Paid after the moment: it owed its whole amount then.
      { invoice_id: 'paidAfter', status: 'paid', livemode: true, currency: 'usd', days_past_due: 16, bucket: '1-30', amount_due_cents: '2000', open_amount_cents: '2000', open_amount: '20.00' },
      // Voided or written off after the moment: what was left then was still owed at the moment.
      { invoice_id: 'voidedAfter', status: 'void', livemode: true, currency: 'usd', days_past_due: 16, bucket: '1-30', amount_due_cents: '3000', open_amount_cents: '3000', open_amount: '30.00' },
      { invoice_id: 'uncollectibleAfter', status: 'uncollectible', livemode: true, currency: 'usd', days_past_due: 16, bucket: '1-30', amount_due_cents: '5000', open_amount_cents: '5000', open_amount: '50.00' },
      { invoice_id: 'yen', status: 'open', livemode: true, currency: 'jpy', days_past_due: 91, bucket: '90+', amount_due_cents: '150000', open_amount_cents: '150000', open_amount: '150000' },
    ]);
  });

  it('lists what is open now when the moment is now, as receivables_aging counts it', async () => {
    const differences: unknown[] = await db.ds.query(
      `(SELECT livemode, currency, bucket, bucket_order, invoice_count, open_amount_cents, open_amount FROM receivables_aging
        EXCEPT SELECT * FROM finance_receivables_aging_as_of(now()))
       UNION ALL
       (SELECT * FROM finance_receivables_aging_as_of(now())
        EXCEPT SELECT livemode, currency, bucket, bucket_order, invoice_count, open_amount_cents, open_amount FROM receivables_aging)`,
    );
    expect(differences).toEqual([]);
    const [n]: { n: number }[] = await db.ds.query(`SELECT count(*)::int AS n FROM receivables_aging`);
    expect(n!.n).toBeGreaterThan(0);
  });

  it('lists nothing before the first invoice was finalized', async () => {
    expect(await db.ds.query(`SELECT * FROM finance_open_invoices_as_of('2026-09-30T00:00:00Z')`)).toEqual([]);
  });
});

describe('finance_receivables_aging_as_of', () => {
  it('is the README’s month-end aging: every bucket of every currency owed then, zeros included', async () => {
    // The query as the README shows it, with test-mode data kept out.
    const rows: Record<string, unknown>[] = await db.ds.query(
      `SELECT currency, bucket, invoice_count, open_amount
         FROM finance_receivables_aging_as_of('2026-10-31T23:59:59Z')
        WHERE livemode
        ORDER BY currency, bucket_order`,
    );
    expect(rows).toEqual([
      { currency: 'jpy', bucket: 'current', invoice_count: 0, open_amount: '0' },
      { currency: 'jpy', bucket: '1-30', invoice_count: 0, open_amount: '0' },
      { currency: 'jpy', bucket: '31-60', invoice_count: 0, open_amount: '0' },
      { currency: 'jpy', bucket: '61-90', invoice_count: 0, open_amount: '0' },
      { currency: 'jpy', bucket: '90+', invoice_count: 1, open_amount: '150000' },
      { currency: 'kwd', bucket: 'current', invoice_count: 0, open_amount: '0.000' },
      { currency: 'kwd', bucket: '1-30', invoice_count: 0, open_amount: '0.000' },
      { currency: 'kwd', bucket: '31-60', invoice_count: 1, open_amount: '1.500' },
      { currency: 'kwd', bucket: '61-90', invoice_count: 0, open_amount: '0.000' },
      { currency: 'kwd', bucket: '90+', invoice_count: 0, open_amount: '0.000' },
      { currency: 'usd', bucket: 'current', invoice_count: 3, open_amount: '0.41' },
      // 7 + 600 + 1000 + 2000 + 3000 + 5000 cents
      { currency: 'usd', bucket: '1-30', invoice_count: 6, open_amount: '116.07' },
      { currency: 'usd', bucket: '31-60', invoice_count: 0, open_amount: '0.00' },
      { currency: 'usd', bucket: '61-90', invoice_count: 0, open_amount: '0.00' },
      { currency: 'usd', bucket: '90+', invoice_count: 0, open_amount: '0.00' },
    ]);
  });

  it('keeps test-mode money apart', async () => {
    const rows: Record<string, unknown>[] = await db.ds.query(
      `SELECT currency, bucket, invoice_count, open_amount_cents FROM finance_receivables_aging_as_of($1) WHERE NOT livemode AND invoice_count > 0`,
      [AS_OF],
    );
    expect(rows).toEqual([{ currency: 'usd', bucket: '1-30', invoice_count: 1, open_amount_cents: '100' }]);
  });
});
