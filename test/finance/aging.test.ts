import { createTestDatabase, type TestDatabase } from '../support/database';
import { DAY, insertInvoice, MINUTE } from './rows';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db.drop();
});

describe('days past due and buckets, at the exact second', () => {
  // The functions take the moment as a parameter, so boundaries are tested to the second.
  // test/finance/days-in-sql.test.ts holds the count equal to the emails' rule over many more.
  it.each([
    ['2026-06-01T12:00:00Z', '2026-06-01T11:59:59Z', 0, 'current'], // due a second from now
    ['2026-06-01T12:00:00Z', '2026-06-01T12:00:00Z', 0, 'current'], // due this very second: not yet late
    ['2026-06-01T12:00:00Z', '2026-06-01T12:00:01Z', 1, '1-30'], // late on its due date: day 1
    ['2026-06-01T12:00:00Z', '2026-06-01T23:59:59Z', 1, '1-30'],
    ['2026-06-01T12:00:00Z', '2026-06-02T00:00:00Z', 1, '1-30'], // next UTC day
    ['2026-06-01T12:00:00Z', '2026-06-02T23:59:59Z', 1, '1-30'],
    ['2026-06-01T12:00:00Z', '2026-06-03T00:00:00Z', 2, '1-30'],
    ['2026-06-01T23:00:00Z', '2026-06-03T01:00:00Z', 2, '1-30'], // 26 hours, two midnights
    ['2026-06-01T01:00:00Z', '2026-06-02T23:00:00Z', 1, '1-30'], // 46 hours, one midnight
    ['2026-06-01T12:00:00Z', '2026-07-01T23:59:59Z', 30, '1-30'],
    ['2026-06-01T12:00:00Z', '2026-07-02T00:00:00Z', 31, '31-60'],
    ['2026-06-01T12:00:00Z', '2026-07-31T23:59:59Z', 60, '31-60'],
    ['2026-06-01T12:00:00Z', '2026-08-01T00:00:00Z', 61, '61-90'],
    ['2026-06-01T12:00:00Z', '2026-08-30T23:59:59Z', 90, '61-90'],
    ['2026-06-01T12:00:00Z', '2026-08-31T00:00:00Z', 91, '90+'],
    ['2025-06-01T12:00:00Z', '2026-07-06T00:00:00Z', 400, '90+'],
  ])('due %s, as of %s: day %i, bucket %s', async (due, asOf, days, bucket) => {
    const [r]: { days: number; bucket: string }[] = await db.ds.query(
      `SELECT finance_days_past_due($1, $2) AS days, finance_aging_bucket(finance_days_past_due($1, $2)) AS bucket`,
      [due, asOf],
    );
    expect(r).toEqual({ days, bucket });
  });

  it('puts an invoice without a due date in current', async () => {
    const [r]: { days: number }[] = await db.ds.query(`SELECT finance_days_past_due(NULL, now()) AS days`);
    expect(r!.days).toBe(0);
  });
});

describe('receivables_aging', () => {
  interface AgingRow {
    livemode: boolean;
    currency: string;
    bucket: string;
    invoice_count: number;
    open_amount_cents: string;
    open_amount: string;
  }
  const aging = async (currency: string): Promise<AgingRow[]> =>
    db.ds.query(
      `SELECT livemode, currency, bucket, invoice_count, open_amount_cents, open_amount
         FROM receivables_aging WHERE currency = $1 ORDER BY livemode DESC, bucket_order`,
      [currency],
    );

  it('buckets invoices either side of 0, 30, 60 and 90 days past due', async () => {
    // Each bucket gets a distinct amount, so a misplaced invoice shows in the sums as well.
    await insertInvoice(db.ds, { currency: 'eur', dueInSeconds: MINUTE, amountCents: 1 }); // due in a minute → current
    await insertInvoice(db.ds, { currency: 'eur', dueInSeconds: -MINUTE, amountCents: 10 }); // a minute late → day 1
    // Calendar days before today (due at noon UTC): the count does not depend on the time of day.
    const cases: Array<[number, number]> = [
      [-30, 100], // → 1-30
      [-31, 1_000], // → 31-60
      [-60, 10_000], // → 31-60
      [-61, 100_000], // → 61-90
      [-90, 1_000_000], // → 61-90
      [-91, 10_000_000], // → 90+
    ];
    for (const [dueOnUtcDay, amountCents] of cases) await insertInvoice(db.ds, { currency: 'eur', dueOnUtcDay, amountCents });
    await insertInvoice(db.ds, { currency: 'eur', dueInSeconds: null, amountCents: 2 }); // no due date → current
    expect(await aging('eur')).toEqual([
      { livemode: true, currency: 'eur', bucket: 'current', invoice_count: 2, open_amount_cents: '3', open_amount: '0.03' },
      { livemode: true, currency: 'eur', bucket: '1-30', invoice_count: 2, open_amount_cents: '110', open_amount: '1.10' },
      { livemode: true, currency: 'eur', bucket: '31-60', invoice_count: 2, open_amount_cents: '11000', open_amount: '110.00' },
      { livemode: true, currency: 'eur', bucket: '61-90', invoice_count: 2, open_amount_cents: '1100000', open_amount: '11000.00' },
      { livemode: true, currency: 'eur', bucket: '90+', invoice_count: 1, open_amount_cents: '10000000', open_amount: '100000.00' },
    ]);
  });

  it('sums only what is still owed on open invoices, per currency, in that currency’s units', async () => {
    await insertInvoice(db.ds, { currency: 'jpy', amountCents: 5000, amountPaidCents: 1500, dueInSeconds: -5 * DAY });
    await insertInvoice(db.ds, { currency: 'jpy', amountCents: 700, dueInSeconds: -5 * DAY });
    // None of these is a receivable: settled, paid, void, written off, draft, deleted.
    await insertInvoice(db.ds, { currency: 'jpy', amountCents: 900, amountPaidCents: 900, dueInSeconds: -5 * DAY });
    await insertInvoice(db.ds, { currency: 'jpy', status: 'paid', amountCents: 900, amountPaidCents: 900, dueInSeconds: -5 * DAY });
    await insertInvoice(db.ds, { currency: 'jpy', status: 'void', dueInSeconds: -5 * DAY });
    await insertInvoice(db.ds, { currency: 'jpy', status: 'uncollectible', dueInSeconds: -5 * DAY });
    await insertInvoice(db.ds, { currency: 'jpy', status: 'draft', dueInSeconds: -5 * DAY });
    await insertInvoice(db.ds, { currency: 'jpy', deleted: true, dueInSeconds: -5 * DAY });
    const rows = await aging('jpy');
    expect(rows.map((r) => r.bucket)).toEqual(['current', '1-30', '31-60', '61-90', '90+']);
    expect(rows.find((r) => r.bucket === '1-30')).toMatchObject({ invoice_count: 2, open_amount_cents: '4200', open_amount: '4200' });
    // The empty buckets are there, with zeros, so a report keeps its shape.
    expect(rows.find((r) => r.bucket === '90+')).toMatchObject({ invoice_count: 0, open_amount_cents: '0', open_amount: '0' });
  });

  it('keeps test-mode money apart from live money', async () => {
    await insertInvoice(db.ds, { currency: 'gbp', livemode: true, amountCents: 100 });
    await insertInvoice(db.ds, { currency: 'gbp', livemode: false, amountCents: 7 });
    const current = (await aging('gbp')).filter((r) => r.bucket === 'current');
    expect(current).toEqual([
      expect.objectContaining({ livemode: true, open_amount_cents: '100' }),
      expect.objectContaining({ livemode: false, open_amount_cents: '7' }),
    ]);
  });

  it('has no rows for a currency with nothing owed', async () => {
    await insertInvoice(db.ds, { currency: 'chf', status: 'paid', amountPaidCents: 1000 });
    expect(await aging('chf')).toEqual([]);
  });
});
