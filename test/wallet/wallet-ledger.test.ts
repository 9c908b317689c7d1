/**
 * The wallet ledger through the real pipeline and PostgreSQL: each reason × payment path × orders
 * and duplications of its events writes the entry a person would write by hand, once; refunds of
 * crediting invoices take back what they refund, once each; void invoices write nothing.
 */
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { processBatch } from '../../src/pipeline/process-batch';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { cardPayment, finalized, paidEvents, refundOf, voided, walletInvoice, type PaymentPath, type WalletInvoice } from '../support/wallet-events';

type Json = Record<string, unknown>;

let db: TestDatabase;
let ds: DataSource;

beforeAll(async () => {
  db = await createTestDatabase();
  ds = db.ds;
});
afterAll(async () => {
  await db.drop();
});

interface Entry {
  entry_type: string;
  amount_cents: number;
  debt_settled_cents: number;
  stripe_customer_id: string | null;
  currency: string;
  reason: string | null;
  stripe_refund_id: string | null;
  stripe_charge_id: string | null;
}

async function entriesOf(invoiceId: string): Promise<Entry[]> {
  const rows: Array<Entry & { amount_cents: string; debt_settled_cents: string }> = await ds.query(
    `SELECT entry_type, amount_cents, debt_settled_cents, stripe_customer_id, currency, reason, stripe_refund_id, stripe_charge_id
       FROM wallet_ledger WHERE stripe_invoice_id = $1 ORDER BY entry_type, stripe_refund_id NULLS FIRST`,
    [invoiceId],
  );
  return rows.map((r) => ({ ...r, amount_cents: Number(r.amount_cents), debt_settled_cents: Number(r.debt_settled_cents) }));
}

const applyInOrder = async (events: readonly Json[]) => {
  for (const e of events) await applyEvent(ds, JSON.stringify(e));
};

/** What a person expects of the invoice's ledger once it is paid. */
function expectedEntries(w: WalletInvoice): Array<Pick<Entry, 'entry_type' | 'amount_cents' | 'debt_settled_cents'>> {
  const reason = w.metadata['reason'];
  if (reason === 'topup_failed') return [{ entry_type: 'topup_credit', amount_cents: w.amount, debt_settled_cents: 0 }];
  if (reason === 'overage') return [{ entry_type: 'overage_settled', amount_cents: 0, debt_settled_cents: w.amount }];
  if (reason === 'manual' && w.metadata['wallet_effect'] === 'credit') return [{ entry_type: 'manual_credit', amount_cents: w.amount, debt_settled_cents: 0 }];
  return [];
}

const REASONS: ReadonlyArray<Record<string, string>> = [
  { reason: 'topup_failed' },
  { reason: 'overage' },
  { reason: 'manual', wallet_effect: 'credit' },
  { reason: 'manual', wallet_effect: 'none' },
  { reason: 'manual' },
  {},
  { reason: 'promo_bonus' },
];
const PATHS: readonly PaymentPath[] = ['card', 'out_of_band', 'uncollectible_then_paid'];

/** Orders and duplications of `count` events, as positions: every event once or twice, shuffled. */
const deliveries = (count: number, seed: number, runs: number): number[][] =>
  fc
    .sample(
      fc.tuple(
        fc.shuffledSubarray([...Array(count).keys()], { minLength: count }),
        fc.array(fc.integer({ min: 0, max: count - 1 }), { maxLength: count }),
        fc.integer({ min: 0, max: 1_000_000 }),
      ),
      { numRuns: runs, seed },
    )
    .map(([order, dups, at]) => {
      const list = [...order];
      for (const d of dups) list.splice((at + d) % (list.length + 1), 0, d);
      return list;
    });

/** The events in this order, each run its own deliveries (odd runs: all in one batch, as a worker receives them). */
async function deliver(events: readonly Json[], order: readonly number[], run: number): Promise<void> {
  const list = order.map((i) => events[i]!);
  if (run % 2 === 0) await applyInOrder(list);
  else await processBatch(ds, list.map((e) => ({ body: JSON.stringify(e), force: false })));
}

describe.each(REASONS.map((m) => [JSON.stringify(m), m] as const))('metadata %s', (_name, metadata) => {
  it.each(PATHS)('paid by %s: chronological, then shuffled and duplicated deliveries, one entry as by hand', async (path) => {
    const chronological = walletInvoice(metadata);
    await applyInOrder(paidEvents(chronological, path));
    const want = expectedEntries(chronological).map((e) => ({
      ...e,
      stripe_customer_id: chronological.customer,
      currency: 'usd',
      reason: metadata['reason'] ?? null,
      stripe_refund_id: null,
      stripe_charge_id: null,
    }));
    expect(await entriesOf(chronological.id)).toEqual(want);

    const count = paidEvents(chronological, path).length;
    for (const [run, order] of deliveries(count, 17 + PATHS.indexOf(path), 4).entries()) {
      // A new invoice, customer and charge each run, so each starts from nothing.
      const w = walletInvoice(metadata);
      await deliver(paidEvents(w, path), order, run);
      expect(await entriesOf(w.id)).toEqual(want.map((e) => ({ ...e, stripe_customer_id: w.customer })));
    }
  });
});

const permutations = <T>(items: readonly T[]): T[][] =>
  items.length <= 1 ? [[...items]] : items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));

it.each([[{ reason: 'topup_failed' }], [{ reason: 'overage' }], [{ reason: 'manual', wallet_effect: 'credit' }]])(
  'a card payment of %j: every order of the invoice, invoice payment and charge events writes the same entry',
  async (metadata: Record<string, string>) => {
    const orders = permutations([0, 1, 2, 3]);
    expect(orders).toHaveLength(24);
    for (const [run, order] of orders.entries()) {
      const w = walletInvoice(metadata);
      await deliver(paidEvents(w, 'card'), order, run);
      expect((await entriesOf(w.id)).map((e) => [e.entry_type, e.amount_cents, e.debt_settled_cents])).toEqual(
        expectedEntries(w).map((e) => [e.entry_type, e.amount_cents, e.debt_settled_cents]),
      );
    }
  },
);

it('an overage invoice voided writes nothing, and neither does an open one', async () => {
  const w = walletInvoice({ reason: 'overage' });
  await applyInOrder([finalized(w)]);
  expect(await entriesOf(w.id)).toEqual([]);
  await applyInOrder([voided(w), finalized(w)]);
  expect(await entriesOf(w.id)).toEqual([]);
});

describe('refunds of a crediting invoice', () => {
  it('a partial and then a full refund take back what each refunds, once each, whatever the order', async () => {
    const eventsOf = (w: WalletInvoice) => [
      ...paidEvents(w, 'card'),
      refundOf(w, { id: `re_part_${w.id.slice(3)}`, amount: 2000, at: w.start + 50 }),
      refundOf(w, { id: `re_rest_${w.id.slice(3)}`, amount: 3000, at: w.start + 60 }),
    ];
    const chronological = [...Array(6).keys()];
    for (const [run, order] of [chronological, [...chronological].reverse(), ...deliveries(6, 99, 6)].entries()) {
      const w = walletInvoice({ reason: 'topup_failed' }, { amount: 5000 });
      await deliver(eventsOf(w), order, run);
      const entries = await entriesOf(w.id);
      expect(entries.map((e) => [e.entry_type, e.amount_cents, e.stripe_refund_id, e.stripe_charge_id])).toEqual([
        ['refund_reversal', -2000, `re_part_${w.id.slice(3)}`, cardPayment(w).charge],
        ['refund_reversal', -3000, `re_rest_${w.id.slice(3)}`, cardPayment(w).charge],
        ['topup_credit', 5000, null, null],
      ]);
      const [balance] = await ds.query(`SELECT balance_cents FROM wallet_balances WHERE customer_id = $1`, [w.customer]);
      expect(Number(balance.balance_cents)).toBe(0);
    }
  });

  it('a refund seen before the invoice was paid is taken back when the credit is written', async () => {
    const w = walletInvoice({ reason: 'topup_failed' }, { amount: 4000 });
    const [open, paid, payment, charge] = paidEvents(w, 'card');
    await applyInOrder([open!, payment!, charge!, refundOf(w, { id: `re_${w.id.slice(3)}`, amount: 1500, at: w.start + 40 })]);
    expect(await entriesOf(w.id)).toEqual([]);
    await applyInOrder([paid!]);
    expect((await entriesOf(w.id)).map((e) => [e.entry_type, e.amount_cents])).toEqual([
      ['refund_reversal', -1500],
      ['topup_credit', 4000],
    ]);
  });

  it('a refund racing the payment of its invoice in another transaction is taken back, every time', async () => {
    for (let run = 0; run < 25; run++) {
      const w = walletInvoice({ reason: 'topup_failed' }, { amount: 2000 });
      const [open, paid, payment, charge] = paidEvents(w, 'card');
      await applyInOrder([open!, payment!, charge!]);
      await Promise.all([applyEvent(ds, JSON.stringify(paid)), applyEvent(ds, JSON.stringify(refundOf(w, { amount: 500, at: w.start + 40 })))]);
      expect((await entriesOf(w.id)).map((e) => [e.entry_type, e.amount_cents])).toEqual([
        ['refund_reversal', -500],
        ['topup_credit', 2000],
      ]);
    }
  });

  it('a refund that names only its payment intent is taken back like one that names its charge', async () => {
    const w = walletInvoice({ reason: 'topup_failed' }, { amount: 3000 });
    const refund = refundOf(w, { id: `re_pi_${w.id.slice(3)}`, amount: 1200, at: w.start + 40 }) as { data: { object: Record<string, unknown> } };
    refund.data.object['charge'] = null;
    for (const order of [[...paidEvents(w, 'card'), refund], [refund, ...paidEvents(w, 'card')]]) {
      await applyInOrder(order);
    }
    expect((await entriesOf(w.id)).map((e) => [e.entry_type, e.amount_cents, e.stripe_charge_id])).toEqual([
      ['refund_reversal', -1200, cardPayment(w).charge],
      ['topup_credit', 3000, null],
    ]);
  });

  it('two batches that each pay one invoice and refund the other take every lock in one pass: no deadlock, no batch split', async () => {
    const fallbacks: unknown[] = [];
    for (let run = 0; run < 10; run++) {
      const one = walletInvoice({ reason: 'topup_failed' }, { amount: 1000 });
      const two = walletInvoice({ reason: 'topup_failed' }, { amount: 2000 });
      const [open1, paid1, payment1, charge1] = paidEvents(one, 'card');
      const [open2, paid2, payment2, charge2] = paidEvents(two, 'card');
      await applyInOrder([open1!, payment1!, charge1!, open2!, payment2!, charge2!]);
      const batch = (events: Json[]) =>
        processBatch(ds, events.map((e) => ({ body: JSON.stringify(e), force: false })), { onBatchFallback: (error) => fallbacks.push(error) });
      await Promise.all([
        batch([paid1!, refundOf(two, { amount: 200, at: two.start + 40 })]),
        batch([paid2!, refundOf(one, { amount: 100, at: one.start + 40 })]),
      ]);
      expect((await entriesOf(one.id)).map((e) => e.amount_cents)).toEqual([-100, 1000]);
      expect((await entriesOf(two.id)).map((e) => e.amount_cents)).toEqual([-200, 2000]);
    }
    expect(fallbacks).toEqual([]);
  });

  it('a refund that is still pending waits, and one that failed after it succeeded gives back what it took', async () => {
    const w = walletInvoice({ reason: 'manual', wallet_effect: 'credit' }, { amount: 3000 });
    const id = `re_${w.id.slice(3)}`;
    await applyInOrder(paidEvents(w, 'card'));
    await applyInOrder([refundOf(w, { id, amount: 1000, at: w.start + 40, status: 'pending' })]);
    expect((await entriesOf(w.id)).map((e) => e.entry_type)).toEqual(['manual_credit']);
    await applyInOrder([refundOf(w, { id, amount: 1000, at: w.start + 40, status: 'succeeded', type: 'refund.updated' })]);
    await applyInOrder([refundOf(w, { id, amount: 1000, at: w.start + 40, status: 'failed', type: 'refund.failed' })]);
    // A late copy of the succeeded refund changes nothing: a failed refund stays failed.
    await applyInOrder([refundOf(w, { id, amount: 1000, at: w.start + 40, status: 'succeeded', type: 'refund.updated' })]);
    expect((await entriesOf(w.id)).map((e) => [e.entry_type, e.amount_cents])).toEqual([
      ['manual_credit', 3000],
      ['refund_failed', 1000],
      ['refund_reversal', -1000],
    ]);
  });

  it('a refund that failed frees its amount for a later one: both are counted whole, whatever order their news comes in', async () => {
    for (const late of [false, true]) {
      const w = walletInvoice({ reason: 'topup_failed' }, { amount: 10000 });
      const a = `re_a_${w.id.slice(3)}`;
      const b = `re_b_${w.id.slice(3)}`;
      const aSucceeded = refundOf(w, { id: a, amount: 8000, at: w.start + 40 });
      const aFailed = refundOf(w, { id: a, amount: 8000, at: w.start + 40, status: 'failed', type: 'refund.failed' });
      const bSucceeded = refundOf(w, { id: b, amount: 8000, at: w.start + 50 });
      await applyInOrder([...paidEvents(w, 'card'), aSucceeded, ...(late ? [bSucceeded, aFailed] : [aFailed, bSucceeded])]);
      const entries = await entriesOf(w.id);
      expect(entries.map((e) => [e.entry_type, e.amount_cents, e.stripe_refund_id])).toEqual([
        ['refund_failed', 8000, a],
        ['refund_reversal', -8000, a],
        ['refund_reversal', -8000, b],
        ['topup_credit', 10000, null],
      ]);
      const [balance] = await ds.query(`SELECT balance_cents FROM wallet_balances WHERE customer_id = $1`, [w.customer]);
      expect(balance.balance_cents).toBe('2000');
    }
  });

  it('a refund of an overage invoice does not touch the wallet', async () => {
    const overage = walletInvoice({ reason: 'overage' }, { amount: 1000 });
    await applyInOrder([...paidEvents(overage, 'card'), refundOf(overage, { amount: 1000, at: overage.start + 40 })]);
    expect((await entriesOf(overage.id)).map((e) => e.entry_type)).toEqual(['overage_settled']);
  });
});

describe('the database keeps entries as they were written', () => {
  it('refuses UPDATE, DELETE and TRUNCATE on wallet_ledger, also for the user that migrated it', async () => {
    const w = walletInvoice({ reason: 'topup_failed' });
    await applyInOrder(paidEvents(w, 'out_of_band'));
    const [{ owner, me }] = await ds.query(`SELECT tableowner AS owner, current_user AS me FROM pg_tables WHERE tablename = 'wallet_ledger'`);
    expect(me).toBe(owner);
    await expect(ds.query(`UPDATE wallet_ledger SET amount_cents = 1 WHERE stripe_invoice_id = $1`, [w.id])).rejects.toThrow(/immutable: UPDATE is refused/);
    await expect(ds.query(`DELETE FROM wallet_ledger WHERE stripe_invoice_id = $1`, [w.id])).rejects.toThrow(/immutable: DELETE is refused/);
    await expect(ds.query(`TRUNCATE wallet_ledger`)).rejects.toThrow(/immutable: TRUNCATE is refused/);
    expect(await entriesOf(w.id)).toHaveLength(1);
  });

  it('a forced replay of every event writes nothing new', async () => {
    const w = walletInvoice({ reason: 'topup_failed' });
    const events = [...paidEvents(w, 'card'), refundOf(w, { amount: 700, at: w.start + 30 })];
    await applyInOrder(events);
    const before = await ds.query(`SELECT id FROM wallet_ledger WHERE stripe_invoice_id = $1 ORDER BY id`, [w.id]);
    for (const e of events) await applyEvent(ds, JSON.stringify(e), {}, { force: true });
    expect(await ds.query(`SELECT id FROM wallet_ledger WHERE stripe_invoice_id = $1 ORDER BY id`, [w.id])).toEqual(before);
  });
});

describe('balances', () => {
  it('wallet_balances sums the entries and what is owed on open invoices, per currency (USD and JPY), as by hand', async () => {
    const customer = 'cus_walletsums';
    const usdTopup = walletInvoice({ reason: 'topup_failed' }, { customer, amount: 2550 });
    const usdManual = walletInvoice({ reason: 'manual', wallet_effect: 'credit' }, { customer, amount: 1000 });
    const usdOverageOpen = walletInvoice({ reason: 'overage' }, { customer, amount: 725 });
    const usdOverageSettled = walletInvoice({ reason: 'overage' }, { customer, amount: 400 });
    const jpyTopup = walletInvoice({ reason: 'topup_failed' }, { customer, amount: 1500, currency: 'jpy' });
    const jpyOpen = walletInvoice({}, { customer, amount: 3000, currency: 'jpy' });
    await applyInOrder([
      ...paidEvents(usdTopup, 'card'),
      refundOf(usdTopup, { amount: 550, at: usdTopup.start + 30 }),
      ...paidEvents(usdManual, 'out_of_band'),
      finalized(usdOverageOpen),
      ...paidEvents(usdOverageSettled, 'card'),
      ...paidEvents(jpyTopup, 'uncollectible_then_paid'),
      finalized(jpyOpen),
    ]);
    const rows = await ds.query(
      `SELECT currency, balance_cents, balance::text AS balance, owed_cents, owed::text AS owed, open_invoices, entries, last_entry_at IS NOT NULL AS has_entries
         FROM wallet_balances WHERE customer_id = $1 ORDER BY currency`,
      [customer],
    );
    expect(rows).toEqual([
      // 2550 − 550 + 1000 (the overage settled adds 0); owed: the open overage invoice.
      { currency: 'jpy', balance_cents: '1500', balance: '1500', owed_cents: '3000', owed: '3000', open_invoices: 1, entries: 1, has_entries: true },
      { currency: 'usd', balance_cents: '3000', balance: '30.00', owed_cents: '725', owed: '7.25', open_invoices: 1, entries: 4, has_entries: true },
    ]);
    const ledger = await ds.query(`SELECT entry_type, amount::text AS amount, debt_settled::text AS debt_settled, invoice_number, charge_id FROM finance_wallet_ledger WHERE customer_id = $1 AND currency = 'jpy'`, [customer]);
    expect(ledger).toEqual([{ entry_type: 'topup_credit', amount: '1500', debt_settled: '0', invoice_number: `INV-${jpyTopup.id.slice(-6)}`, charge_id: cardPayment(jpyTopup).charge }]);
  });

  it('a customer who owes but never had an entry has a balance of 0 and no last entry', async () => {
    const w = walletInvoice({ reason: 'overage' }, { amount: 999 });
    await applyInOrder([finalized(w)]);
    const [row] = await ds.query(`SELECT balance_cents, owed_cents, last_entry_at FROM wallet_balances WHERE customer_id = $1`, [w.customer]);
    expect(row).toEqual({ balance_cents: '0', owed_cents: '999', last_entry_at: null });
  });
});
