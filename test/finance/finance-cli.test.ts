import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { Client } from 'pg';
import { AGING_COLUMNS, CREDIT_NOTE_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS } from '../../src/db/finance-columns';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { insertCharge, insertCreditNote, insertInvoicePayment, insertRefund } from './money-rows';
import { DAY, insertInvoice } from './rows';

const CLI = path.resolve(__dirname, '../../dist/src/cli.js');

/** The CLI exactly as `npx billing` runs it, from the build, with only the environment we give. */
function billing(args: string[], databaseUrl: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: os.tmpdir(), DATABASE_URL: databaseUrl },
    encoding: 'utf8',
    timeout: 60000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const NAME = 'Zed, "Z" Ltd\nAccounts';
let db: TestDatabase;
const ids: Record<string, string> = {};

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: npm test builds first (npm run build)');
  db = await createTestDatabase(2);
  ids['overdueOld'] = await insertInvoice(db.ds, { customerId: 'cus_zed', customerName: NAME, number: 'ZED-0001', amountCents: 250000, dueOnUtcDay: -45, createdAt: '2026-01-05T00:00:00Z' });
  ids['overdueNew'] = await insertInvoice(db.ds, { customerId: 'cus_zed', customerName: NAME, number: 'ZED-0002', amountCents: 1999, dueOnUtcDay: -2, createdAt: '2026-02-05T00:00:00Z' });
  ids['yen'] = await insertInvoice(db.ds, { customerId: 'cus_kaisha', customerName: 'Kaisha KK', number: 'KK-0001', currency: 'jpy', amountCents: 150000, dueInSeconds: 10 * DAY, createdAt: '2026-03-05T00:00:00Z' });
  ids['paid'] = await insertInvoice(db.ds, { customerId: 'cus_kaisha', status: 'paid', number: 'KK-0000', amountCents: 500, amountPaidCents: 500, createdAt: '2025-12-05T00:00:00Z' });
  ids['draft'] = await insertInvoice(db.ds, { customerId: 'cus_kaisha', status: 'draft', number: null, createdAt: '2026-03-06T00:00:00Z' });
  ids['void'] = await insertInvoice(db.ds, { customerId: 'cus_settled', customerName: 'Settled SA', number: 'ST-0001', amountCents: 5000, status: 'void', voidedAt: '2025-11-20T00:00:00Z', dueInSeconds: -60 * DAY, createdAt: '2025-11-05T00:00:00Z' });
  ids['writtenOff'] = await insertInvoice(db.ds, {
    customerId: 'cus_settled',
    customerName: 'Settled SA',
    customerEmail: ' AP@Settled.EXAMPLE ',
    number: 'ST-0002',
    amountCents: 123456,
    amountPaidCents: 23456,
    status: 'uncollectible',
    markedUncollectibleAt: '2025-11-25T00:00:00Z',
    metadata: { contract: 'C-9' },
    dueInSeconds: -50 * DAY,
    createdAt: '2025-11-06T00:00:00Z',
  });
  // The money behind them: the paid invoice's payment, refunded 2.00 and credited 2.00 after
  // payment; an open payment of the yen invoice; a payment whose invoice is not stored yet; a
  // voided credit note.
  await insertInvoicePayment(db.ds, { id: 'inpay_kk', invoiceId: ids['paid'], paymentIntentId: 'pi_kk', amountCents: 500, requestedCents: 500, createdAt: '2025-12-05T01:00:00Z' });
  await insertCharge(db.ds, { id: 'ch_kk', paymentIntentId: 'pi_kk', amountCents: 500, refundedCents: 200, createdAt: '2025-12-05T01:00:00Z' });
  await insertRefund(db.ds, { id: 're_kk', chargeId: 'ch_kk', paymentIntentId: 'pi_kk', amountCents: 200 });
  await insertInvoicePayment(db.ds, { id: 'inpay_yen', invoiceId: ids['yen'], paymentIntentId: 'pi_yen', status: 'open', amountCents: 0, requestedCents: 150000, currency: 'jpy', createdAt: '2026-03-05T01:00:00Z' });
  await insertInvoicePayment(db.ds, { id: 'inpay_orphan', invoiceId: 'in_notyet', paymentIntentId: 'pi_orphan', amountCents: 1000, createdAt: '2026-03-07T00:00:00Z' });
  await insertCharge(db.ds, { id: 'ch_orphan', paymentIntentId: 'pi_orphan', createdAt: '2026-03-07T00:00:00Z' });
  await insertCreditNote(db.ds, { id: 'cn_kk', invoiceId: ids['paid'], totalCents: 200, createdAt: '2025-12-06T00:00:00Z' });
  await insertCreditNote(db.ds, { id: 'cn_zedvoid', invoiceId: ids['overdueOld'], type: 'pre_payment', status: 'void', totalCents: 1000, createdAt: '2026-01-06T00:00:00Z' });
});
afterAll(async () => {
  await db?.drop();
});

describe('billing invoices', () => {
  it('prints an aligned table, newest first, without drafts, names on one line', () => {
    const r = billing(['invoices'], db.url);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^INVOICE\s+CUSTOMER\s+STATUS\s+DUE\s+DAYS LATE\s+AMOUNT DUE\s+REMAINING\s+WRITTEN OFF\s+CREDITED\s+REFUNDED\s+CURRENCY$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['KK-0001', 'ZED-0002', 'ZED-0001', 'KK-0000', 'ST-0002', 'ST-0001']);
    expect(lines[1]).toMatch(/Kaisha KK\s+open\s+\d{4}-\d{2}-\d{2}\s+150,000\s+150,000\s+JPY$/);
    expect(lines[3]).toContain('Zed, "Z" Ltd Accounts');
    expect(lines[3]).toMatch(/overdue\s+\d{4}-\d{2}-\d{2}\s+45\s+2,500\.00\s+2,500\.00\s+USD$/);
    // Nothing is owed on a void invoice; an uncollectible one's balance is shown as written off.
    expect(lines[5]).toMatch(/Settled SA\s+uncollectible\s+\d{4}-\d{2}-\d{2}\s+1,234\.56\s+0\.00\s+1,000\.00\s+USD$/);
    expect(lines[6]).toMatch(/Settled SA\s+void\s+\d{4}-\d{2}-\d{2}\s+50\.00\s+0\.00\s+USD$/);
    // Credited and refunded, blank unless there is something: the paid invoice had both.
    expect(lines[4]).toMatch(/^KK-0000\s+.*paid\s+\d{4}-\d{2}-\d{2}\s+5\.00\s+0\.00\s+2\.00\s+2\.00\s+USD$/);
    const credited = lines[0]!.indexOf('CREDITED');
    // ZED-0001's only credit note was voided.
    expect(lines[3]!.slice(credited, lines[0]!.indexOf('CURRENCY')).trim()).toBe('');
    // Right-aligned: every amount ends where its header does.
    const end = lines[0]!.indexOf('AMOUNT DUE') + 'AMOUNT DUE'.length;
    for (const line of lines.slice(1)) expect(line.slice(end - 1, end + 1)).toMatch(/^\d $/);
  });

  it('prints JSON: an array of objects with every column, in a stable order, numbers as numbers', () => {
    const r = billing(['invoices', '--customer', 'cus_zed', '--format', 'json'], db.url);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as Record<string, unknown>[];
    expect(rows.map((x) => Object.keys(x))).toEqual(rows.map(() => INVOICE_COLUMNS.map(([n]) => n)));
    expect(rows[0]).toMatchObject({ invoice_id: ids['overdueNew'], customer_name: NAME, display_status: 'overdue', days_overdue: 2, amount_due: 19.99, amount_due_cents: 1999, currency: 'usd', livemode: true });
    expect(rows[0]!['due_date']).toMatch(/Z$/);
  });

  it('gives what was refunded, credited and collected, and the receipt, in JSON and CSV', () => {
    const json = billing(['invoices', '--customer', 'cus_kaisha', '--status', 'paid', '--format', 'json'], db.url);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual([
      expect.objectContaining({
        invoice_id: ids['paid'],
        amount_paid_cents: 500,
        amount_refunded_cents: 200,
        amount_refunded: 2,
        amount_credited_cents: 200,
        amount_credited: 2,
        net_collected_cents: 300,
        net_collected: 3,
        receipt_url: 'https://pay.stripe.com/receipts/ch_kk',
      }),
    ]);
    const csv = billing(['invoices', '--customer', 'cus_kaisha', '--status', 'paid', '--format', 'csv'], db.url);
    const [header, record] = parse(csv.out, { bom: true, record_delimiter: '\r\n' }) as string[][];
    expect(header!.slice(-8)).toEqual(['amount_refunded_cents', 'amount_refunded', 'amount_credited_cents', 'amount_credited', 'net_collected_cents', 'net_collected', 'receipt_url', 'stripe_account_id']);
    expect(record!.slice(-8)).toEqual(['200', '2.00', '200', '2.00', '300', '3.00', 'https://pay.stripe.com/receipts/ch_kk', '']);
  });

  it('gives void and uncollectible invoices in JSON with nothing owed, the written-off amount, when, the recipient and the metadata', () => {
    const r = billing(['invoices', '--customer', 'cus_settled', '--format', 'json'], db.url);
    expect(r.code).toBe(0);
    const [writtenOff, voided] = JSON.parse(r.out) as Record<string, unknown>[];
    expect(writtenOff).toMatchObject({
      invoice_id: ids['writtenOff'],
      amount_remaining_cents: 0,
      amount_remaining: 0,
      amount_written_off_cents: 100000,
      amount_written_off: 1000,
      marked_uncollectible_at: '2025-11-25T00:00:00.000Z',
      voided_at: null,
      recipient_email: 'AP@settled.example',
      metadata: { contract: 'C-9' },
    });
    expect(voided).toMatchObject({ invoice_id: ids['void'], amount_due: 50, amount_remaining: 0, amount_written_off: 0, voided_at: '2025-11-20T00:00:00.000Z', metadata: {} });
  });

  it('prints CSV that parses back, names with comma, quotes and newline intact', () => {
    const r = billing(['invoices', '--format', 'csv', '--customer', 'cus_zed'], db.url);
    expect(r.code).toBe(0);
    expect(r.out.startsWith('\uFEFFinvoice_id,')).toBe(true);
    const [header, ...records] = parse(r.out, { bom: true, record_delimiter: '\r\n' }) as string[][];
    expect(header).toEqual(INVOICE_COLUMNS.map(([n]) => n));
    expect(records.map((rec) => rec[header!.indexOf('customer_name')])).toEqual([NAME, NAME]);
    expect(records.map((rec) => rec[header!.indexOf('amount_due')])).toEqual(['19.99', '2500.00']);
  });

  it('lists the overdue oldest due first, with --overdue or --status overdue', () => {
    for (const args of [['--overdue'], ['--status', 'overdue'], ['--status', 'open', '--overdue']]) {
      const r = billing(['invoices', ...args, '--format', 'json'], db.url);
      expect(r.code).toBe(0);
      expect((JSON.parse(r.out) as { invoice_id: string }[]).map((x) => x.invoice_id)).toEqual([ids['overdueOld'], ids['overdueNew']]);
    }
  });

  it('filters by status (open includes overdue; drafts on request), customer and creation time', () => {
    const list = (...args: string[]) => (JSON.parse(billing(['invoices', ...args, '--format', 'json'], db.url).out) as { invoice_id: string }[]).map((x) => x.invoice_id);
    expect(list('--status', 'open')).toEqual([ids['yen'], ids['overdueNew'], ids['overdueOld']]);
    expect(list('--status', 'paid')).toEqual([ids['paid']]);
    expect(list('--status', 'draft')).toEqual([ids['draft']]);
    expect(list('--customer', 'cus_kaisha')).toEqual([ids['yen'], ids['paid']]);
    expect(list('--since', '2026-01-05', '--until', '2026-03-05T00:00:00Z')).toEqual([ids['overdueNew'], ids['overdueOld']]);
    expect(list('--customer', 'cus_nobody')).toEqual([]);
  });

  it('says on stderr when --limit cut the list, keeping stdout valid', () => {
    const r = billing(['invoices', '--limit', '1', '--format', 'json'], db.url);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toHaveLength(1);
    expect(r.err).toMatch(/more invoices match; showing the first 1/);
  });

  it('says so when nothing matches', () => {
    const r = billing(['invoices', '--customer', 'cus_nobody'], db.url);
    expect(r.code).toBe(0);
    expect(r.out).toBe('no invoices match\n');
  });

  it.each([
    [['--status', 'late'], /--status: one of draft, open, paid, void, uncollectible, overdue/],
    [['--customer', 'acme'], /--customer: not a Stripe customer id: expected cus_…/],
    [['--since', 'yesterday'], /--since: not an ISO 8601 moment/],
    [['--until', '2026-01-01T10:00'], /--until: not an ISO 8601 moment/],
    [['--since', '2026-02-01', '--until', '2026-01-01'], /--since is after --until/],
    [['--format', 'xlsx'], /--format: one of table, csv, json/],
    [['--limit', '0'], /--limit: a whole number from 1 to/],
    [['--overdue', '--status', 'paid'], /--overdue: only open invoices are overdue/],
  ])('refuses %j with exit 2 and a clear message', (args, message) => {
    const r = billing(['invoices', ...args], db.url);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });
});

describe('billing aging', () => {
  it('prints one line per currency, amounts and counts by bucket, with totals', () => {
    const r = billing(['aging'], db.url);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^open receivables as of \d{4}-\d{2}-\d{2}T.*Z/);
    expect(lines[2]).toMatch(/^CURRENCY\s+CURRENT\s+1-30 DAYS\s+31-60 DAYS\s+61-90 DAYS\s+90\+ DAYS\s+TOTAL$/);
    expect(lines[3]).toMatch(/^JPY\s+150,000 \(1\)\s+0 \(0\)\s+0 \(0\)\s+0 \(0\)\s+0 \(0\)\s+150,000 \(1\)$/);
    expect(lines[4]).toMatch(/^USD\s+0\.00 \(0\)\s+19\.99 \(1\)\s+2,500\.00 \(1\)\s+0\.00 \(0\)\s+0\.00 \(0\)\s+2,519\.99 \(2\)$/);
    expect(lines).toHaveLength(5);
  });

  it('prints CSV and JSON, one record per currency and bucket', () => {
    const csv = billing(['aging', '--format', 'csv'], db.url);
    expect(csv.code).toBe(0);
    const [header, ...records] = parse(csv.out, { bom: true, record_delimiter: '\r\n' }) as string[][];
    expect(header).toEqual(AGING_COLUMNS.map(([n]) => n));
    expect(records).toHaveLength(10);
    expect(records[7]!.slice(2)).toEqual(['usd', '31-60', '1', '250000', '2500.00']);

    const json = billing(['aging', '--format', 'json'], db.url);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.out) as Record<string, unknown>[];
    expect(rows).toHaveLength(10);
    expect(Object.keys(rows[0]!)).toEqual(AGING_COLUMNS.map(([n]) => n));
    expect(rows[6]).toMatchObject({ currency: 'usd', bucket: '1-30', invoice_count: 1, open_amount_cents: 1999, open_amount: 19.99, livemode: true });
  });

  it('refuses an unknown format with exit 2', () => {
    const r = billing(['aging', '--format', 'pdf'], db.url);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--format: one of table, csv, json/);
  });
});

const list = (command: string, ...args: string[]): string[] => {
  const r = billing([command, ...args, '--format', 'json'], db.url);
  expect(r.err).toBe('');
  const key = command === 'payments' ? 'invoice_payment_id' : 'credit_note_id';
  return (JSON.parse(r.out) as Record<string, string>[]).map((x) => x[key]!);
};

describe('billing payments', () => {
  it('prints a table, newest first, with the invoice number (its id while the invoice is unknown) and blank refunds unless any', () => {
    const r = billing(['payments'], db.url);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CREATED\s+INVOICE\s+CUSTOMER\s+STATUS\s+METHOD\s+REQUESTED\s+PAID\s+REFUNDED\s+CURRENCY$/);
    expect(lines[1]).toMatch(/^2026-03-07\s+in_notyet\s+cus_rows\s+paid\s+card\s+10\.00\s+10\.00\s+USD$/);
    expect(lines[2]).toMatch(/^2026-03-05\s+KK-0001\s+Kaisha KK\s+open\s+150,000\s+0\s+JPY$/);
    expect(lines[3]).toMatch(/^2025-12-05\s+KK-0000\s+Acme Corp\s+paid\s+card\s+5\.00\s+5\.00\s+2\.00\s+USD$/);
    expect(lines).toHaveLength(4);
  });

  it('prints JSON with every column in a stable order, numbers as numbers, and CSV with the same columns', () => {
    const json = billing(['payments', '--invoice', ids['paid']!, '--format', 'json'], db.url);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.out) as Record<string, unknown>[];
    expect(rows.map((x) => Object.keys(x))).toEqual([PAYMENT_COLUMNS.map(([n]) => n)]);
    expect(rows[0]).toEqual({
      invoice_payment_id: 'inpay_kk',
      invoice_id: ids['paid'],
      invoice_number: 'KK-0000',
      customer_id: 'cus_kaisha',
      customer_name: 'Acme Corp',
      status: 'paid',
      is_default: true,
      amount_requested_cents: 500,
      amount_paid_cents: 500,
      amount_refunded_cents: 200,
      amount_requested: 5,
      amount_paid: 5,
      amount_refunded: 2,
      currency: 'usd',
      payment_intent_id: 'pi_kk',
      charge_id: 'ch_kk',
      charge_status: 'succeeded',
      payment_method_type: 'card',
      failure_code: null,
      receipt_url: 'https://pay.stripe.com/receipts/ch_kk',
      refund_count: 1,
      created_at: '2025-12-05T01:00:00.000Z',
      paid_at: null,
      canceled_at: null,
      livemode: true,
      stripe_account_id: null,
    });
    const csv = billing(['payments', '--format', 'csv'], db.url);
    expect(csv.code).toBe(0);
    const [header, ...records] = parse(csv.out, { bom: true, record_delimiter: '\r\n' }) as string[][];
    expect(header).toEqual(PAYMENT_COLUMNS.map(([n]) => n));
    expect(records.map((rec) => rec[header!.indexOf('amount_paid')])).toEqual(['10.00', '0', '5.00']);
  });

  it('filters by invoice, customer, status and creation time', () => {
    expect(list('payments', '--invoice', ids['yen']!)).toEqual(['inpay_yen']);
    expect(list('payments', '--customer', 'cus_kaisha')).toEqual(['inpay_yen', 'inpay_kk']);
    expect(list('payments', '--customer', 'cus_rows')).toEqual(['inpay_orphan']);
    expect(list('payments', '--status', 'open')).toEqual(['inpay_yen']);
    expect(list('payments', '--status', 'canceled')).toEqual([]);
    expect(list('payments', '--since', '2026-01-01', '--until', '2026-03-06')).toEqual(['inpay_yen']);
  });

  it('says on stderr when --limit cut the list, and says so when nothing matches', () => {
    const cut = billing(['payments', '--limit', '2', '--format', 'json'], db.url);
    expect(cut.code).toBe(0);
    expect(JSON.parse(cut.out)).toHaveLength(2);
    expect(cut.err).toMatch(/more payments match; showing the first 2/);
    const none = billing(['payments', '--invoice', 'in_nothing'], db.url);
    expect(none.code).toBe(0);
    expect(none.out).toBe('no payments match\n');
  });

  it.each([
    [['--invoice', 'ch_123'], /--invoice: not a Stripe invoice id: expected in_…/],
    [['--customer', 'acme'], /--customer: not a Stripe customer id: expected cus_…/],
    [['--status', 'refunded'], /--status: one of open, paid, canceled/],
    [['--since', 'last week'], /--since: not an ISO 8601 moment/],
    [['--since', '2026-02-01', '--until', '2026-01-01'], /--since is after --until/],
    [['--format', 'xlsx'], /--format: one of table, csv, json/],
    [['--limit', '-1'], /--limit: a whole number from 1 to/],
    [['--limit', '1e3'], /--limit: a whole number from 1 to/],
  ])('refuses %j with exit 2 and a clear message', (args, message) => {
    const r = billing(['payments', ...args], db.url);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });
});

describe('billing credit-notes', () => {
  it('prints a table, newest first, with the invoice number and the split before and after payment', () => {
    const r = billing(['credit-notes'], db.url);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CREATED\s+CREDIT NOTE\s+INVOICE\s+CUSTOMER\s+STATUS\s+TYPE\s+TOTAL\s+PRE-PAYMENT\s+POST-PAYMENT\s+CURRENCY$/);
    expect(lines[1]).toMatch(/^2026-01-06\s+CN-void\s+ZED-0001\s+Zed, "Z" Ltd Accounts\s+void\s+pre_payment\s+10\.00\s+10\.00\s+0\.00\s+USD$/);
    expect(lines[2]).toMatch(/^2025-12-06\s+CN-n_kk\s+KK-0000\s+Acme Corp\s+issued\s+post_payment\s+2\.00\s+0\.00\s+2\.00\s+USD$/);
    expect(lines).toHaveLength(3);
  });

  it('prints JSON and CSV with every column in a stable order', () => {
    const json = billing(['credit-notes', '--invoice', ids['paid']!, '--format', 'json'], db.url);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.out) as Record<string, unknown>[];
    expect(rows.map((x) => Object.keys(x))).toEqual([CREDIT_NOTE_COLUMNS.map(([n]) => n)]);
    expect(rows[0]).toMatchObject({ credit_note_id: 'cn_kk', invoice_number: 'KK-0000', status: 'issued', total_cents: 200, total: 2, pre_payment_amount: 0, post_payment_amount: 2, out_of_band_amount: null, voided_at: null });
    const csv = billing(['credit-notes', '--format', 'csv'], db.url);
    const [header, ...records] = parse(csv.out, { bom: true, record_delimiter: '\r\n' }) as string[][];
    expect(header).toEqual(CREDIT_NOTE_COLUMNS.map(([n]) => n));
    expect(records.map((rec) => rec[header!.indexOf('total')])).toEqual(['10.00', '2.00']);
  });

  it('filters by invoice, customer, status and creation time', () => {
    expect(list('credit-notes', '--status', 'void')).toEqual(['cn_zedvoid']);
    expect(list('credit-notes', '--status', 'issued')).toEqual(['cn_kk']);
    expect(list('credit-notes', '--customer', 'cus_zed')).toEqual([]);
    expect(list('credit-notes', '--customer', 'cus_rows')).toEqual(['cn_zedvoid', 'cn_kk']);
    expect(list('credit-notes', '--invoice', ids['overdueOld']!)).toEqual(['cn_zedvoid']);
    expect(list('credit-notes', '--until', '2026-01-01')).toEqual(['cn_kk']);
    expect(billing(['credit-notes', '--invoice', 'in_nothing'], db.url).out).toBe('no credit notes match\n');
  });

  it.each([
    [['--invoice', 'cn_123'], /--invoice: not a Stripe invoice id: expected in_…/],
    [['--status', 'open'], /--status: one of issued, void/],
    [['--until', 'tomorrow'], /--until: not an ISO 8601 moment/],
    [['--format', 'pdf'], /--format: one of table, csv, json/],
    [['--limit', '100001'], /--limit: a whole number from 1 to 100000/],
  ])('refuses %j with exit 2 and a clear message', (args, message) => {
    const r = billing(['credit-notes', ...args], db.url);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });
});

describe('as a finance login that is a member of billing_readonly', () => {
  it('reads invoices, aging, payments and credit notes without any write right', async () => {
    const user = `finance_cli_${randomBytes(5).toString('hex')}`;
    const password = randomBytes(8).toString('hex');
    const admin = new Client({ connectionString: process.env['TEST_PG_ADMIN_URL'] });
    await admin.connect();
    await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}' IN ROLE billing_readonly`);
    try {
      const u = new URL(db.url);
      u.username = user;
      u.password = password;
      const invoices = billing(['invoices', '--overdue', '--format', 'json'], u.toString());
      expect(invoices.err).toBe('');
      expect(JSON.parse(invoices.out)).toHaveLength(2);
      expect(billing(['aging', '--format', 'json'], u.toString()).code).toBe(0);
      const payments = billing(['payments', '--format', 'json'], u.toString());
      expect(payments.err).toBe('');
      expect(JSON.parse(payments.out)).toHaveLength(3);
      const notes = billing(['credit-notes', '--format', 'json'], u.toString());
      expect(notes.err).toBe('');
      expect(JSON.parse(notes.out)).toHaveLength(2);
    } finally {
      await admin.query(`DROP ROLE ${user}`);
      await admin.end();
    }
  });
});
