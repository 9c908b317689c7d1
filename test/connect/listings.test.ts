// `--account` on the listings (invoices, aging, stats, events, replay events), spawned from the
// build against a real database whose rows came in as the platform's and two connected accounts'
// events: each keeps its owner's rows only, `platform` the platform's own, and a bad value exits 2.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyEvent } from '../support/apply-event';
import { billing, CLI } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { event, invoice, ofAccount, uid } from '../support/stripe-events';

type Json = Record<string, unknown>;

const A = 'acct_1ListA';
const B = 'acct_1ListB';
const NOW = Math.floor(Date.now() / 1000);
const DAY = 86_400;

let db: TestDatabase;
let dataDir: string;
const run = (...args: string[]) => billing(args, { DATABASE_URL: db.url, DATA_DIR: dataDir });
const json = (...args: string[]) => {
  const r = run(...args);
  if (r.code !== 0) throw new Error(`billing ${args.join(' ')} exited ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as unknown;
};

/** An open invoice's finalization, of `account` (none: the platform's own). */
function opened(o: { amount: number; currency?: string; dueInDays: number; account?: string }): { id: string; event: Json } {
  const id = uid('in');
  const e = event(
    'invoice.finalized',
    invoice({
      id,
      status: 'open',
      created: NOW - 40 * DAY,
      amount_due: o.amount,
      amount_paid: 0,
      amount_remaining: o.amount,
      total: o.amount,
      currency: o.currency ?? 'usd',
      collection_method: 'send_invoice',
      due_date: NOW + o.dueInDays * DAY,
      metadata: {},
      status_transitions: { finalized_at: NOW - 40 * DAY, paid_at: null, voided_at: null, marked_uncollectible_at: null },
    }),
    { created: NOW - 40 * DAY },
  );
  return { id, event: o.account ? ofAccount(e, o.account) : e };
}

const ids: Record<string, string> = {};
const failed: Record<string, string> = {};

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run npm run build first');
  db = await createTestDatabase(2);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-connect-'));
  const invoices = {
    platformOverdue: opened({ amount: 1000, dueInDays: -10 }),
    platformCurrent: opened({ amount: 400, dueInDays: 10 }),
    aOverdue: opened({ amount: 2000, dueInDays: -45, account: A }),
    aEur: opened({ amount: 500, currency: 'eur', dueInDays: 5, account: A }),
    bCurrent: opened({ amount: 700, dueInDays: 3, account: B }),
  };
  for (const [name, { id, event: e }] of Object.entries(invoices)) {
    ids[name] = id;
    await applyEvent(db.ds, JSON.stringify(e));
  }
  // Two refused events, each stored failing with its own account: B's about A's invoice, and the platform's about it.
  const again = (account?: string) => {
    const e = event('invoice.updated', invoice({ id: ids['aOverdue'], status: 'open', amount_due: 2000, amount_remaining: 2000, currency: 'usd' }), { created: NOW - DAY });
    return account ? ofAccount(e, account) : e;
  };
  for (const [who, e] of [[B, again(B)], ['platform', again()]] as const) {
    failed[who] = e['id'] as string;
    await applyEvent(db.ds, JSON.stringify(e)).catch(() => undefined);
  }
});

afterAll(async () => {
  await db?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const idsOf = (rows: unknown) => (rows as Json[]).map((r) => (r['invoice_id'] ?? r['id']) as string).sort();

describe('billing invoices --account', () => {
  it("lists one account's invoices, or the platform's own, each with its account in JSON and CSV", () => {
    const mine = json('invoices', '--account', A, '--format', 'json') as Json[];
    expect(idsOf(mine)).toEqual([ids['aOverdue'], ids['aEur']].sort());
    expect(mine.map((r) => r['stripe_account_id'])).toEqual([A, A]);
    expect(idsOf(json('invoices', '--account', 'platform', '--format', 'json'))).toEqual([ids['platformOverdue'], ids['platformCurrent']].sort());
    expect(idsOf(json('invoices', '--format', 'json'))).toHaveLength(5);
    expect(idsOf(json('invoices', '--account', A, '--overdue', '--format', 'json'))).toEqual([ids['aOverdue']]);
    const csv = run('invoices', '--account', B, '--format', 'csv').out.trim().split('\r\n');
    expect(csv[0]!.split(',').at(-1)).toBe('stripe_account_id');
    expect(csv.slice(1).map((l) => l.split(',').at(-1))).toEqual([B]);
  });

  it('shows the account in the table only when a row listed has one', () => {
    const all = run('invoices').out.split('\n');
    expect(all[0]).toMatch(/^ACCOUNT\s+INVOICE/);
    expect(all.filter((l) => l.startsWith('platform '))).toHaveLength(2);
    expect(all.filter((l) => l.startsWith(`${A} `))).toHaveLength(2);
    expect(run('invoices', '--account', 'platform').out).not.toMatch(/ACCOUNT/);
  });
});

describe('billing aging --account', () => {
  const buckets = (rows: unknown) => (rows as Json[]).filter((r) => (r['invoice_count'] as number) > 0).map((r) => `${r['currency'] as string} ${r['bucket'] as string} ${r['open_amount_cents'] as number}`);

  it("ages one account's receivables, or the platform's own; all of them without it", () => {
    expect(buckets(json('aging', '--account', A, '--format', 'json'))).toEqual(['eur current 500', 'usd 31-60 2000']);
    expect(buckets(json('aging', '--account', 'platform', '--format', 'json'))).toEqual(['usd current 400', 'usd 1-30 1000']);
    expect(buckets(json('aging', '--account', B, '--format', 'json'))).toEqual(['usd current 700']);
    expect(buckets(json('aging', '--format', 'json'))).toEqual(['eur current 500', 'usd current 1100', 'usd 1-30 1000', 'usd 31-60 2000']);
    // Every bucket of the account's currencies, zeros included, as without --account.
    expect((json('aging', '--account', B, '--format', 'json') as Json[]).map((r) => r['bucket'])).toEqual(['current', '1-30', '31-60', '61-90', '90+']);
    expect(run('aging', '--account', 'acct_1Nobody').out).toMatch(/nothing is owed/);
  });
});

describe('billing stats --account', () => {
  it("counts one account's invoices, overdue and events, and says whose", () => {
    const a = json('stats', '--account', A, '--json') as Json;
    expect(a['account']).toBe(A);
    expect(a['invoices']).toEqual([
      expect.objectContaining({ status: 'open', currency: 'eur', count: 1, amountRemainingCents: 500 }),
      expect.objectContaining({ status: 'open', currency: 'usd', count: 1, amountRemainingCents: 2000 }),
    ]);
    expect(a['overdue']).toEqual([expect.objectContaining({ currency: 'usd', count: 1, amountRemainingCents: 2000 })]);
    expect(a['events']).toMatchObject({ total: 2, unprocessed: 0, failed: 0 });
    const platform = json('stats', '--account', 'platform', '--json') as Json;
    expect(platform).toMatchObject({ account: 'platform', events: { total: 3, unprocessed: 1, failed: 1 } });
    expect(json('stats', '--account', B, '--json')).toMatchObject({ events: { total: 2, unprocessed: 1, failed: 1 }, overdue: [] });
    expect(json('stats', '--json')).not.toHaveProperty('account');
    expect(run('stats', '--account', A).out).toMatch(new RegExp(`^connected account ${A}: invoices, overdue and events \\(notices and queues: all accounts\\)`));
  });
});

describe('billing events --account', () => {
  it("lists one account's events, or the platform's own, each saying whose", () => {
    const a = json('events', '--account', A, '--json') as Json[];
    expect(a.map((e) => e['account'])).toEqual([A, A]);
    const b = json('events', '--account', B, '--failed', '--json') as Json[];
    expect(b.map((e) => [e['id'], e['account']])).toEqual([[failed[B], B]]);
    expect((json('events', '--account', 'platform', '--json') as Json[]).map((e) => e['account'])).toEqual([null, null, null]);
    expect(run('events', '--account', B).out).toContain(`  ${ids['aOverdue']}  ${B}  unprocessed (1 attempt)`);
  });
});

describe('billing replay events --account', () => {
  it("sends one account's events only, or the platform's own", () => {
    const b = json('replay', 'events', '--account', B, '--dry-run', '--json') as { events: Json[] };
    expect(b.events.map((e) => [e['id'], e['account']])).toEqual([[failed[B], B]]);
    const platform = json('replay', 'events', '--account', 'platform', '--failed', '--dry-run', '--json') as { events: Json[] };
    expect(platform.events.map((e) => e['id'])).toEqual([failed['platform']]);
    expect((json('replay', 'events', '--account', A, '--dry-run', '--json') as { events: Json[] }).events).toEqual([]);
    const forced = json('replay', 'events', '--account', A, '--force', '--invoice', ids['aEur']!, '--dry-run', '--json') as { events: Json[] };
    expect(forced.events.map((e) => e['account'])).toEqual([A]);
  });
});

describe('a bad --account', () => {
  it.each([
    [['invoices'], 'acct-1ListA'],
    [['invoices'], 'ACCT_1'],
    [['aging'], "acct_1' OR '1'='1"],
    [['stats'], 'acct_'],
    [['events'], 'cus_1ListA'],
    [['replay', 'events'], 'all'],
  ])('billing %j --account %j exits 2 and says what it takes', (command, value) => {
    const r = run(...command, '--account', value);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--account: not a connected account id, acct_… .*, nor platform/);
    expect(r.out).toBe('');
  });

  it('is not an option of events prune', () => {
    const r = run('events', 'prune', '--processed-before', '90d', '--account', A);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--account: an option of `billing events`, not of `billing events prune`/);
  });
});
