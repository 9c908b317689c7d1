import { parse } from 'csv-parse/sync';
import { AGING_COLUMNS, INVOICE_COLUMNS } from '../../src/db/finance-columns';
import { receivablesAging } from '../../src/db/finance-views';
import { neutralizeFormula, toCsv } from '../../src/read-models/csv';
import { listInvoices } from '../../src/read-models/finance-lists';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { DAY, insertInvoice } from './rows';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db.drop();
});

const NAMES = [
  'Smith, Jones & Partners',
  'The "Best" Shop',
  'Line one\nLine two',
  'Windows\r\nbreak',
  'Müller GmbH — Zürich',
  ' leading and trailing spaces ',
  '"',
  ',',
];

/** What a spreadsheet does with the file: strip the BOM, split RFC 4180 records on CRLF. */
const readBack = (csv: string): string[][] => parse(csv, { bom: true, record_delimiter: '\r\n', relax_column_count: false });

describe('invoices as CSV', () => {
  it('round-trips names with commas, quotes and line breaks through a CSV parser', async () => {
    const customerId = 'cus_csvnames';
    const ids: string[] = [];
    for (const [i, name] of NAMES.entries()) ids.push(await insertInvoice(db.ds, { customerId, customerName: name, createdAt: `2026-01-0${i + 1}T00:00:00Z` }));
    const { rows } = await listInvoices(db.ds.manager, { customerId, limit: 100 });
    const csv = toCsv(rows, INVOICE_COLUMNS);

    const [header, ...records] = readBack(csv);
    expect(header).toEqual(INVOICE_COLUMNS.map(([name]) => name));
    expect(records).toHaveLength(NAMES.length);
    const nameAt = header!.indexOf('customer_name');
    const idAt = header!.indexOf('invoice_id');
    // Newest first: the last inserted comes first.
    expect(records.map((r) => r[nameAt])).toEqual([...NAMES].reverse());
    expect(records.map((r) => r[idAt])).toEqual([...ids].reverse());
  });

  it('is what a spreadsheet opens: BOM, CRLF line ends, plain numbers, ISO times, empty for null', async () => {
    const customerId = 'cus_csvshape';
    await insertInvoice(db.ds, { customerId, currency: 'jpy', amountCents: 123456, amountPaidCents: 6, dueOnUtcDay: -3, customerEmail: null });
    await insertInvoice(db.ds, { customerId, currency: 'usd', amountCents: 123456, createdAt: '2025-12-01T00:00:00Z' });
    const csv = toCsv((await listInvoices(db.ds.manager, { customerId, limit: 10 })).rows, INVOICE_COLUMNS);

    expect(csv.startsWith('\uFEFFinvoice_id,customer_id,')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const [header, jpy, usd] = readBack(csv);
    const col = (row: string[] | undefined, name: string) => row![header!.indexOf(name)];
    expect(col(jpy, 'amount_due')).toBe('123456');
    expect(col(jpy, 'amount_remaining_cents')).toBe('123450');
    expect(col(jpy, 'display_status')).toBe('overdue');
    expect(col(jpy, 'days_overdue')).toBe('3');
    expect(col(jpy, 'customer_email')).toBe('');
    expect(col(jpy, 'paid_at')).toBe('');
    expect(col(jpy, 'livemode')).toBe('true');
    expect(col(jpy, 'due_date')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(col(usd, 'amount_due')).toBe('1234.56');
    expect(col(usd, 'created_at')).toBe('2025-12-01T00:00:00.000Z');
    expect(col(jpy, 'recipient_email')).toBe('');
    expect(col(usd, 'recipient_email')).toBe('ap@acme.test');
    expect(col(usd, 'metadata')).toBe('{}');
  });

  it('shows a void invoice as owing nothing and an uncollectible one as written off, with when and the invoice metadata', async () => {
    const customerId = 'cus_csvsettled';
    await insertInvoice(db.ds, { customerId, status: 'void', amountCents: 5000, voidedAt: '2026-03-02T10:00:00Z', createdAt: '2026-03-01T00:00:00Z' });
    await insertInvoice(db.ds, {
      customerId,
      status: 'uncollectible',
      amountCents: 5000,
      amountPaidCents: 1000,
      markedUncollectibleAt: '2026-03-04T10:00:00Z',
      metadata: { order: '=1+1', note: 'a, "b"' },
      createdAt: '2026-02-01T00:00:00Z',
    });
    const [header, voided, writtenOff] = readBack(toCsv((await listInvoices(db.ds.manager, { customerId, limit: 10 })).rows, INVOICE_COLUMNS));
    const col = (row: string[] | undefined, name: string) => row![header!.indexOf(name)];
    // Columns added after the first release come last, oldest addition first, so positions never shift.
    expect(header!.slice(header!.indexOf('livemode') + 1)).toEqual([
      'amount_written_off_cents',
      'amount_written_off',
      'voided_at',
      'marked_uncollectible_at',
      'recipient_email',
      'metadata',
      'amount_refunded_cents',
      'amount_refunded',
      'amount_credited_cents',
      'amount_credited',
      'net_collected_cents',
      'net_collected',
      'receipt_url',
      'stripe_account_id',
    ]);
    expect([col(voided, 'amount_remaining'), col(voided, 'amount_written_off'), col(voided, 'voided_at')]).toEqual(['0.00', '0.00', '2026-03-02T10:00:00.000Z']);
    expect([col(writtenOff, 'amount_remaining_cents'), col(writtenOff, 'amount_written_off_cents'), col(writtenOff, 'amount_written_off')]).toEqual(['0', '4000', '40.00']);
    expect(col(writtenOff, 'marked_uncollectible_at')).toBe('2026-03-04T10:00:00.000Z');
    expect(JSON.parse(col(writtenOff, 'metadata')!)).toEqual({ order: '=1+1', note: 'a, "b"' });
  });

  it('defuses names a spreadsheet would run as formulas, keeping them readable', async () => {
    const customerId = 'cus_csvformula';
    const dangerous = ['=HYPERLINK("http://evil.test","click")', '+1+1', '-2+3', '@SUM(A1)', '\tTabbed', '＝1+1'];
    for (const [i, name] of dangerous.entries()) await insertInvoice(db.ds, { customerId, customerName: name, createdAt: `2026-02-0${i + 1}T00:00:00Z` });
    const [header, ...records] = readBack(toCsv((await listInvoices(db.ds.manager, { customerId, limit: 10 })).rows, INVOICE_COLUMNS));
    const names = records.map((r) => r[header!.indexOf('customer_name')]);
    expect(names).toEqual([...dangerous].reverse().map((n) => `'${n}`));
  });

  it('leaves harmless text and negative numbers alone', () => {
    expect(neutralizeFormula('Acme')).toBe('Acme');
    expect(neutralizeFormula('a=b')).toBe('a=b');
    expect(neutralizeFormula('')).toBe('');
    const csv = toCsv([{ n: '-2.50', t: '-2.50' }], [['n', 'amount'], ['t', 'text']]);
    expect(readBack(csv)).toEqual([['n', 't'], ['-2.50', "'-2.50"]]);
  });
});

describe('aging as CSV', () => {
  it('has one row per currency and bucket with plain amounts', async () => {
    await insertInvoice(db.ds, { currency: 'sek', amountCents: 150075, dueInSeconds: -45 * DAY });
    const rows = (await receivablesAging(db.ds.manager)).filter((r) => r['currency'] === 'sek');
    const [header, ...records] = readBack(toCsv(rows, AGING_COLUMNS));
    expect(header).toEqual(['as_of', 'livemode', 'currency', 'bucket', 'invoice_count', 'open_amount_cents', 'open_amount']);
    expect(records.map((r) => r.slice(2))).toEqual([
      ['sek', 'current', '0', '0', '0.00'],
      ['sek', '1-30', '0', '0', '0.00'],
      ['sek', '31-60', '1', '150075', '1500.75'],
      ['sek', '61-90', '0', '0', '0.00'],
      ['sek', '90+', '0', '0', '0.00'],
    ]);
  });
});
