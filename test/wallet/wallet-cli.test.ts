/**
 * `billing wallet cus_…` spawned from the build against a real database whose ledger the
 * pipeline wrote from Stripe's events: a person's table, a spreadsheet's CSV, a script's JSON,
 * narrowed to a connected account or the platform, and the arguments it refuses.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { WALLET_BALANCE_COLUMNS, WALLET_ENTRY_COLUMNS } from '../../src/db/finance-columns';
import { applyEvent } from '../support/apply-event';
import { billingAsync, CLI, type CliResult } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { cardPayment, finalized, paidEvents, refundOf, walletInvoice } from '../support/wallet-events';

const CUSTOMER = 'cus_WalletCli01';
const NOBODY = 'cus_WalletNobody';
const ACCOUNT = 'acct_WalletCli01';
const OVERAGE_PAID = 'cus_WalletOverage';
const OWES = 'cus_WalletOwes';

let db: TestDatabase;

// The platform's: a top-up of 25.50 paid by card and refunded 5.50, a manual credit of 10.00 paid
// out of band, an overage of 7.25 still open, a yen top-up of 1,500. A connected account's: a
// top-up of 40.00 for the same customer id.
const topup = walletInvoice({ reason: 'topup_failed' }, { customer: CUSTOMER, amount: 2550 });
const refundId = `re_${topup.id.slice(3)}`;
const manual = walletInvoice({ reason: 'manual', wallet_effect: 'credit' }, { customer: CUSTOMER, amount: 1000 });
const overage = walletInvoice({ reason: 'overage' }, { customer: CUSTOMER, amount: 725 });
const yen = walletInvoice({ reason: 'topup_failed' }, { customer: CUSTOMER, amount: 1500, currency: 'jpy' });
const connected = walletInvoice({ reason: 'topup_failed' }, { customer: CUSTOMER, amount: 4000, account: ACCOUNT });
// A customer whose overage of 19.99 was paid; one who owes 3.00 on an open one and has no entry.
const settled = walletInvoice({ reason: 'overage' }, { customer: OVERAGE_PAID, amount: 1999 });
const owed = walletInvoice({ reason: 'overage' }, { customer: OWES, amount: 300 });

/**
 * Every invocation the tests look at, started together once the ledger is written: one after
 * another, their start-ups and connections would add up to several times as long.
 */
const INVOCATIONS = {
  json: ['wallet', CUSTOMER, '--format', 'json'],
  jsonAccount: ['wallet', CUSTOMER, '--account', ACCOUNT, '--format', 'json'],
  jsonPlatform: ['wallet', CUSTOMER, '--account', 'platform', '--format', 'json'],
  jsonNobody: ['wallet', NOBODY, '--format', 'json'],
  csv: ['wallet', CUSTOMER, '--format', 'csv'],
  csvNobody: ['wallet', NOBODY, '--format', 'csv'],
  table: ['wallet', CUSTOMER],
  tablePlatform: ['wallet', CUSTOMER, '--account', 'platform'],
  tableOverage: ['wallet', OVERAGE_PAID],
  tableNobody: ['wallet', NOBODY],
  tableOwes: ['wallet', OWES],
  notCustomer: ['wallet', 'in_123'],
  badCharacters: ['wallet', 'cus_abc;DROP'],
  xml: ['wallet', CUSTOMER, '--format', 'xml'],
  bogusAccount: ['wallet', CUSTOMER, '--account', 'bogus'],
  missing: ['wallet'],
} as const;
type Invocation = keyof typeof INVOCATIONS;
const results = new Map<Invocation, CliResult>();
const run = (name: Invocation): CliResult => results.get(name)!;

/** The ledger's own rows, oldest first: what the CLI must show, newest first. */
let written: Array<{ id: string; entry_type: string; stripe_invoice_id: string }>;

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run npm run build first');
  db = await createTestDatabase(2);
  const events = [
    ...paidEvents(topup, 'card'),
    refundOf(topup, { id: refundId, amount: 550, at: topup.start + 30 }),
    ...paidEvents(manual, 'out_of_band'),
    finalized(overage),
    ...paidEvents(yen, 'card'),
    ...paidEvents(connected, 'card'),
  ];
  for (const e of events) await applyEvent(db.ds, JSON.stringify(e));
  written = await db.ds.query(`SELECT id::text AS id, entry_type, stripe_invoice_id FROM wallet_ledger WHERE stripe_customer_id = $1 ORDER BY id`, [CUSTOMER]);
  for (const e of [...paidEvents(settled, 'card'), finalized(owed)]) await applyEvent(db.ds, JSON.stringify(e));
  const names = Object.keys(INVOCATIONS) as Invocation[];
  const outs = await Promise.all(names.map((n) => billingAsync([...INVOCATIONS[n]], { DATABASE_URL: db.url })));
  names.forEach((n, i) => results.set(n, outs[i]!));
});
afterAll(async () => {
  await db?.drop();
});

const entryIds = () => written.map((w) => Number(w.id));
const idOf = (invoiceId: string, type: string) => Number(written.find((w) => w.stripe_invoice_id === invoiceId && w.entry_type === type)!.id);

describe('billing wallet --format json', () => {
  it('gives the balances per owner and currency, and every entry newest first, in cents and major units', () => {
    const r = run('json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const wallet = JSON.parse(r.out) as { customer_id: string; balances: Record<string, unknown>[]; entries: Record<string, unknown>[] };
    expect(Object.keys(wallet)).toEqual(['customer_id', 'balances', 'entries']);
    expect(wallet.customer_id).toBe(CUSTOMER);
    expect(wallet.balances.map((b) => Object.keys(b))).toEqual(wallet.balances.map(() => WALLET_BALANCE_COLUMNS.map(([c]) => c)));
    const common = { customer_id: CUSTOMER, livemode: false, last_entry_at: expect.stringMatching(/Z$/) };
    expect(wallet.balances).toEqual([
      { ...common, stripe_account_id: null, currency: 'jpy', balance_cents: 1500, balance: 1500, owed_cents: 0, owed: 0, open_invoices: 0, entries: 1 },
      // 25.50 − 5.50 + 10.00; owed: the open overage invoice.
      { ...common, stripe_account_id: null, currency: 'usd', balance_cents: 3000, balance: 30, owed_cents: 725, owed: 7.25, open_invoices: 1, entries: 3 },
      { ...common, stripe_account_id: ACCOUNT, currency: 'usd', balance_cents: 4000, balance: 40, owed_cents: 0, owed: 0, open_invoices: 0, entries: 1 },
    ]);

    expect(wallet.entries.map((e) => Object.keys(e))).toEqual(wallet.entries.map(() => WALLET_ENTRY_COLUMNS.map(([c]) => c)));
    expect(wallet.entries.map((e) => e['entry_id'])).toEqual([...entryIds()].reverse());
    const pick = (e: Record<string, unknown>) => [e['entry_type'], e['amount_cents'], e['amount'], e['debt_settled_cents'], e['currency'], e['invoice_id'], e['stripe_account_id']];
    expect(wallet.entries.map(pick)).toEqual([
      ['topup_credit', 4000, 40, 0, 'usd', connected.id, ACCOUNT],
      ['topup_credit', 1500, 1500, 0, 'jpy', yen.id, null],
      ['manual_credit', 1000, 10, 0, 'usd', manual.id, null],
      ['refund_reversal', -550, -5.5, 0, 'usd', topup.id, null],
      ['topup_credit', 2550, 25.5, 0, 'usd', topup.id, null],
    ]);
    const reversal = wallet.entries.find((e) => e['entry_type'] === 'refund_reversal')!;
    expect(reversal).toMatchObject({
      entry_id: idOf(topup.id, 'refund_reversal'),
      customer_id: CUSTOMER,
      invoice_number: `INV-${topup.id.slice(-6)}`,
      charge_id: cardPayment(topup).charge,
      refund_id: refundId,
      reason: 'topup_failed',
      source_event_id: expect.stringMatching(/^evt_/),
      livemode: false,
      occurred_at: new Date((topup.start + 30) * 1000).toISOString(),
      created_at: expect.stringMatching(/Z$/),
    });
    // A card payment's entry shows its charge once known; one paid out of band has none.
    expect(wallet.entries.find((e) => e['invoice_id'] === topup.id && e['entry_type'] === 'topup_credit')).toMatchObject({
      charge_id: cardPayment(topup).charge,
      refund_id: null,
      occurred_at: new Date((topup.start + 5) * 1000).toISOString(),
    });
    expect(wallet.entries.find((e) => e['invoice_id'] === manual.id)).toMatchObject({ charge_id: null, reason: 'manual' });
  });

  it('--account acct_… keeps that account’s balances and entries, and says which', () => {
    const r = run('jsonAccount');
    expect(r.code).toBe(0);
    const wallet = JSON.parse(r.out);
    expect(wallet).toMatchObject({ customer_id: CUSTOMER, account: ACCOUNT });
    expect(wallet.balances.map((b: Record<string, unknown>) => [b['stripe_account_id'], b['currency'], b['balance_cents']])).toEqual([[ACCOUNT, 'usd', 4000]]);
    expect(wallet.entries.map((e: Record<string, unknown>) => [e['entry_type'], e['invoice_id'], e['amount_cents']])).toEqual([['topup_credit', connected.id, 4000]]);
  });

  it('--account platform keeps the platform’s own', () => {
    const r = run('jsonPlatform');
    expect(r.code).toBe(0);
    const wallet = JSON.parse(r.out);
    expect(wallet.account).toBe('platform');
    expect(wallet.balances.map((b: Record<string, unknown>) => [b['stripe_account_id'], b['currency'], b['balance_cents']])).toEqual([
      [null, 'jpy', 1500],
      [null, 'usd', 3000],
    ]);
    expect(wallet.entries).toHaveLength(4);
    expect(wallet.entries.every((e: Record<string, unknown>) => e['stripe_account_id'] === null)).toBe(true);
  });

  it('a customer with nothing: empty arrays', () => {
    const r = run('jsonNobody');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ customer_id: NOBODY, balances: [], entries: [] });
  });
});

describe('billing wallet --format csv', () => {
  it('has a header and one row per entry, newest first, amounts in cents and major units', () => {
    const r = run('csv');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [header, ...records] = parse(r.out, { bom: true, record_delimiter: '\r\n' }) as string[][];
    expect(header).toEqual(WALLET_ENTRY_COLUMNS.map(([c]) => c));
    expect(records).toHaveLength(5);
    const col = (name: string) => header!.indexOf(name);
    expect(records.map((row) => row[col('entry_id')])).toEqual([...entryIds()].reverse().map(String));
    expect(records.map((row) => [row[col('entry_type')], row[col('amount_cents')], row[col('amount')], row[col('currency')], row[col('stripe_account_id')], row[col('refund_id')]])).toEqual([
      ['topup_credit', '4000', '40.00', 'usd', ACCOUNT, ''],
      ['topup_credit', '1500', '1500', 'jpy', '', ''],
      ['manual_credit', '1000', '10.00', 'usd', '', ''],
      ['refund_reversal', '-550', '-5.50', 'usd', '', refundId],
      ['topup_credit', '2550', '25.50', 'usd', '', ''],
    ]);
  });

  it('for a customer with nothing: the header alone', () => {
    const r = run('csvNobody');
    expect(r.code).toBe(0);
    expect(parse(r.out, { bom: true, record_delimiter: '\r\n' })).toEqual([WALLET_ENTRY_COLUMNS.map(([c]) => c)]);
  });
});

describe('billing wallet (table)', () => {
  it('shows balance and amount owed per owner and currency, then the entries, credits signed', () => {
    const r = run('table');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [summary, ledger] = r.out.trimEnd().split('\n\n');
    const lines = summary!.split('\n');
    expect(lines[0]).toMatch(/^ACCOUNT\s+CURRENCY\s+BALANCE\s+OWED\s+OPEN INVOICES\s+LAST ENTRY$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^platform\s+JPY \(test\)\s+1,500\s+0\s+0\s+\d{4}-\d{2}-\d{2}$/),
      expect.stringMatching(/^platform\s+USD \(test\)\s+30\.00\s+7\.25\s+1\s+\d{4}-\d{2}-\d{2}$/),
      expect.stringMatching(new RegExp(`^${ACCOUNT}\\s+USD \\(test\\)\\s+40\\.00\\s+0\\.00\\s+0\\s+\\d{4}-\\d{2}-\\d{2}$`)),
    ]);
    const rows = ledger!.split('\n');
    expect(rows[0]).toMatch(/^WRITTEN\s+ENTRY\s+AMOUNT\s+DEBT SETTLED\s+CURRENCY\s+INVOICE\s+REFUND$/);
    expect(rows.slice(1).map((l) => l.split(/\s+/).slice(1, 3))).toEqual([
      ['topup_credit', '+40.00'],
      ['topup_credit', '+1,500'],
      ['manual_credit', '+10.00'],
      ['refund_reversal', '-5.50'],
      ['topup_credit', '+25.50'],
    ]);
    expect(rows[4]).toContain(`INV-${topup.id.slice(-6)}`);
    expect(rows[4]).toMatch(new RegExp(`${refundId}$`));
  });

  it('without an account column when every row is the platform’s', () => {
    const r = run('tablePlatform');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/^CURRENCY\s+BALANCE\s+OWED/);
    expect(r.out).not.toContain(ACCOUNT);
  });

  it('shows the debt an overage invoice settled, and a balance of 0 when nothing was credited', () => {
    const r = run('tableOverage');
    expect(r.code).toBe(0);
    const [summary, ledger] = r.out.trimEnd().split('\n\n');
    expect(summary!.split('\n')[1]).toMatch(/^USD \(test\)\s+0\.00\s+0\.00\s+0\s+\d{4}-\d{2}-\d{2}$/);
    expect(ledger!.split('\n')[1]).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}\\s+overage_settled\\s+0\\.00\\s+19\\.99\\s+USD \\(test\\)\\s+INV-${settled.id.slice(-6)}\\s*$`));
  });

  it('says so for a customer with nothing, and for one who only owes', () => {
    const r = run('tableNobody');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`no wallet entries and nothing owed for ${NOBODY}\n`);

    const owes = run('tableOwes');
    expect(owes.code).toBe(0);
    const [summary, rest] = owes.out.trimEnd().split('\n\n');
    expect(summary!.split('\n')[1]).toMatch(/^USD \(test\)\s+0\.00\s+3\.00\s+1\s*$/);
    expect(rest).toBe('no ledger entries');
  });
});

describe('billing wallet refuses bad arguments with exit 2 and a clear message', () => {
  it.each<[string, Invocation, RegExp]>([
    ['not a customer id', 'notCustomer', /wallet: not a Stripe customer id: expected cus_…/],
    ['a customer id with other characters', 'badCharacters', /wallet: not a Stripe customer id/],
    ['an unknown format', 'xml', /--format: one of table, csv, json/],
    ['an account that is neither acct_… nor platform', 'bogusAccount', /--account: not a connected account id, acct_….*nor platform/],
  ])('%s', (_name, invocation, message) => {
    const r = run(invocation);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });

  it('a missing customer argument', () => {
    const r = run('missing');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/missing required argument 'customer'/);
    expect(r.out).toBe('');
  });
});
