import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { Client } from 'pg';
import { AGING_COLUMNS, INVOICE_COLUMNS } from '../../src/db/finance-columns';
import { createTestDatabase, type TestDatabase } from '../support/database';
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
    expect(lines[0]).toMatch(/^INVOICE\s+CUSTOMER\s+STATUS\s+DUE\s+DAYS LATE\s+AMOUNT DUE\s+REMAINING\s+WRITTEN OFF\s+CURRENCY$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['KK-0001', 'ZED-0002', 'ZED-0001', 'KK-0000', 'ST-0002', 'ST-0001']);
    expect(lines[1]).toMatch(/Kaisha KK\s+open\s+\d{4}-\d{2}-\d{2}\s+150,000\s+150,000\s+JPY$/);
    expect(lines[3]).toContain('Zed, "Z" Ltd Accounts');
    expect(lines[3]).toMatch(/overdue\s+\d{4}-\d{2}-\d{2}\s+45\s+2,500\.00\s+2,500\.00\s+USD$/);
    // Nothing is owed on a void invoice; an uncollectible one's balance is shown as written off.
    expect(lines[5]).toMatch(/Settled SA\s+uncollectible\s+\d{4}-\d{2}-\d{2}\s+1,234\.56\s+0\.00\s+1,000\.00\s+USD$/);
    expect(lines[6]).toMatch(/Settled SA\s+void\s+\d{4}-\d{2}-\d{2}\s+50\.00\s+0\.00\s+USD$/);
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

describe('as a finance login that is a member of billing_readonly', () => {
  it('reads invoices and aging without any write right', async () => {
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
    } finally {
      await admin.query(`DROP ROLE ${user}`);
      await admin.end();
    }
  });
});
