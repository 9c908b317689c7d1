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
  const AS_OF = '2026-06-01T00:00:00Z';
  it.each([
    [-1, 0, 'current'], // due one second from now
    [0, 0, 'current'], // due this very second: not yet late
    [1, 1, '1-30'],
    [DAY, 1, '1-30'],
    [DAY + 1, 2, '1-30'],
    [30 * DAY, 30, '1-30'],
    [30 * DAY + 1, 31, '31-60'],
    [60 * DAY, 60, '31-60'],
    [60 * DAY + 1, 61, '61-90'],
    [90 * DAY, 90, '61-90'],
    [90 * DAY + 1, 91, '90+'],
    [400 * DAY, 400, '90+'],
  ])('%i seconds late is day %i, bucket %s', async (secondsLate, days, bucket) => {
    const [r]: { days: number; bucket: string }[] = await db.ds.query(
      `SELECT finance_days_past_due($1::timestamptz - make_interval(secs => $2), $1::timestamptz) AS days,
              finance_aging_bucket(finance_days_past_due($1::timestamptz - make_interval(secs => $2), $1::timestamptz)) AS bucket`,
      [AS_OF, secondsLate],
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

  it('buckets invoices a minute either side of 0, 30, 60 and 90 days past due', async () => {
    // Each bucket gets a distinct amount, so a misplaced invoice shows in the sums as well.
    const cases: Array<[number, number]> = [
      [+MINUTE, 1], // due in a minute → current
      [-MINUTE, 10], // a minute late → 1-30
      [-(30 * DAY - MINUTE), 100], // → 1-30
      [-(30 * DAY + MINUTE), 1_000], // → 31-60
      [-(60 * DAY - MINUTE), 10_000], // → 31-60
      [-(60 * DAY + MINUTE), 100_000], // → 61-90
      [-(90 * DAY - MINUTE), 1_000_000], // → 61-90
      [-(90 * DAY + MINUTE), 10_000_000], // → 90+
    ];
    for (const [dueInSeconds, amountCents] of cases) await insertInvoice(db.ds, { currency: 'eur', dueInSeconds, amountCents });
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
