// `billing stats`, spawned from the build against a real database: amounts per currency in major
// units for people, and numbers (minor and major units) for scripts, as `invoices --format json`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { billing, CLI } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { insertInvoice } from '../finance/rows';
import { applyEvent } from '../support/apply-event';
import { event, invoice, uid } from '../support/stripe-events';

let db: TestDatabase;
let dataDir: string;
// A DATA_DIR of its own, so no running `npm start` is found: the queue is reported as not running.
const run = (...args: string[]) => billing(args, { DATABASE_URL: db.url, DATA_DIR: dataDir });

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run npm run build first');
  db = await createTestDatabase(2);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-stats-'));
  await insertInvoice(db.ds, { currency: 'jpy', amountCents: 150000, dueOnUtcDay: 10 });
  await insertInvoice(db.ds, { currency: 'kwd', amountCents: 1500, dueOnUtcDay: 10 });
  await insertInvoice(db.ds, { currency: 'usd', amountCents: 1999, dueOnUtcDay: -2 });
  await insertInvoice(db.ds, { currency: 'usd', amountCents: 123456789, amountPaidCents: 789, dueOnUtcDay: 3 });
  await insertInvoice(db.ds, { currency: 'usd', status: 'void', amountCents: 5000, voidedAt: '2026-03-02T00:00:00Z' });
  await insertInvoice(db.ds, { currency: 'usd', status: 'uncollectible', amountCents: 5000, amountPaidCents: 1000, markedUncollectibleAt: '2026-03-03T00:00:00Z' });
  await insertInvoice(db.ds, { currency: 'usd', status: 'draft', amountCents: 700 });
});

afterAll(async () => {
  await db?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('billing stats', () => {
  it('shows amounts in major units with the currency, nothing owed on void, written off apart', () => {
    const r = run('stats');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const from = lines.indexOf('invoices (not deleted)');
    expect(lines.slice(from, lines.indexOf('overdue') + 2)).toEqual([
      'invoices (not deleted)',
      '  draft          usd        1   remaining 7.00 USD',
      '  open           jpy        1   remaining 150,000 JPY',
      '  open           kwd        1   remaining 1.500 KWD',
      '  open           usd        2   remaining 1,234,579.99 USD',
      '  uncollectible  usd        1   remaining 0.00 USD   written off 40.00 USD',
      '  void           usd        1   remaining 0.00 USD',
      'overdue',
      '  usd        1   remaining 19.99 USD',
    ]);
    expect(r.out).not.toMatch(/cents/);
  });

  it('gives amounts as numbers, in minor and major units, as invoices --format json does', () => {
    const r = run('stats', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as { invoices: Record<string, unknown>[]; overdue: Record<string, unknown>[] };
    expect(s.invoices).toEqual([
      { status: 'draft', currency: 'usd', count: 1, amountRemainingCents: 700, amountRemaining: 7, amountWrittenOffCents: 0, amountWrittenOff: 0 },
      { status: 'open', currency: 'jpy', count: 1, amountRemainingCents: 150000, amountRemaining: 150000, amountWrittenOffCents: 0, amountWrittenOff: 0 },
      { status: 'open', currency: 'kwd', count: 1, amountRemainingCents: 1500, amountRemaining: 1.5, amountWrittenOffCents: 0, amountWrittenOff: 0 },
      { status: 'open', currency: 'usd', count: 2, amountRemainingCents: 123457999, amountRemaining: 1234579.99, amountWrittenOffCents: 0, amountWrittenOff: 0 },
      { status: 'uncollectible', currency: 'usd', count: 1, amountRemainingCents: 0, amountRemaining: 0, amountWrittenOffCents: 4000, amountWrittenOff: 40 },
      { status: 'void', currency: 'usd', count: 1, amountRemainingCents: 0, amountRemaining: 0, amountWrittenOffCents: 0, amountWrittenOff: 0 },
    ]);
    expect(s.overdue).toEqual([{ currency: 'usd', count: 1, amountRemainingCents: 1999, amountRemaining: 19.99 }]);

    // The same numbers as the invoice list, summed.
    const invoices = JSON.parse(run('invoices', '--status', 'open', '--format', 'json').out) as Array<{ currency: string; amount_remaining_cents: number }>;
    const usd = invoices.filter((i) => i.currency === 'usd').reduce((sum, i) => sum + i.amount_remaining_cents, 0);
    expect(s.invoices.find((g) => g['status'] === 'open' && g['currency'] === 'usd')!['amountRemainingCents']).toBe(usd);
  });
});

// A status Stripe adds later is stored as Stripe sent it and reported, so an operator learns of it
// from the report rather than from a dead-lettered event.
describe('billing stats, with statuses this version does not know', () => {
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      await applyEvent(db.ds, JSON.stringify(event('invoice.updated', invoice({ id: uid('in'), status: 'partially_paid', amount_due: 1000, amount_paid: 400, amount_remaining: 600 }))));
    }
  });

  it('lists them with their counts, for scripts', () => {
    const r = run('stats', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).unknownStatuses).toEqual([{ status: 'partially_paid', count: 2 }]);
  });

  it('says so under the invoices, for people', () => {
    const r = run('stats');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}partially_paid +usd +2 /m);
    expect(r.out).toContain('note: statuses this version does not know (partially_paid 2): stored as Stripe sent them; never overdue, no emails');
  });
});
