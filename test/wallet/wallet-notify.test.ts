/**
 * Every new wallet entry is announced on the channel wallet_ledger with its id, when the
 * transaction that wrote it commits: a listener on a real PostgreSQL connection hears each entry
 * once, hears nothing of a duplicate event or a forced replay, and nothing of a rolled-back insert.
 *
 * "Nothing arrived" is asserted with a barrier: PostgreSQL delivers notifications in commit order,
 * so once a marker sent after the work has arrived, everything the work committed has too.
 */
import { Client, type Notification } from 'pg';
import { WALLET_LEDGER_CHANNEL } from '../../src/db/wallet-ledger';
import { processBatch } from '../../src/pipeline/process-batch';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitFor } from '../support/wait';
import { paidEvents, refundOf, walletInvoice } from '../support/wallet-events';

type Json = Record<string, unknown>;

let db: TestDatabase;
let listener: Client;
const heard: Notification[] = [];
let barriers = 0;

beforeAll(async () => {
  db = await createTestDatabase(3);
  listener = new Client({ connectionString: db.url });
  await listener.connect();
  listener.on('notification', (n) => heard.push(n));
  await listener.query(`LISTEN ${WALLET_LEDGER_CHANNEL}`);
});
afterAll(async () => {
  await listener?.end();
  await db?.drop();
});
beforeEach(async () => {
  // Whatever an earlier test's work announced is heard before this test starts.
  await heardSince();
});

/**
 * The payloads heard on the channel since the last call, once a marker sent now has arrived:
 * everything committed before this call is among them.
 */
async function heardSince(): Promise<string[]> {
  const marker = `barrier-${++barriers}`;
  await db.ds.query(`SELECT pg_notify($1, $2)`, [WALLET_LEDGER_CHANNEL, marker]);
  await waitFor(`the marker ${marker}`, async () => heard.some((n) => n.payload === marker), 5000, 10);
  const at = heard.findIndex((n) => n.payload === marker);
  const before = heard.splice(0, at + 1).slice(0, -1);
  expect(before.every((n) => n.channel === WALLET_LEDGER_CHANNEL)).toBe(true);
  return before.map((n) => n.payload ?? '');
}

const ledgerIds = async (invoiceId: string): Promise<string[]> =>
  ((await db.ds.query(`SELECT id::text AS id FROM wallet_ledger WHERE stripe_invoice_id = $1 ORDER BY id`, [invoiceId])) as Array<{ id: string }>).map((r) => r.id);

const applyAll = async (events: readonly Json[], force = false) => {
  for (const e of events) await applyEvent(db.ds, JSON.stringify(e), {}, { force });
};

describe('NOTIFY wallet_ledger', () => {
  it('a paid topup_failed invoice through the pipeline: one notification, the new entry’s id', async () => {
    const w = walletInvoice({ reason: 'topup_failed' }, { amount: 1234 });
    await applyAll(paidEvents(w, 'card'));
    const payloads = await heardSince();
    const ids = await ledgerIds(w.id);
    expect(ids).toHaveLength(1);
    expect(payloads).toEqual(ids);
    const [row] = await db.ds.query(`SELECT entry_type, amount_cents::int AS amount FROM wallet_ledger WHERE id = $1::bigint`, [payloads[0]]);
    expect(row).toEqual({ entry_type: 'topup_credit', amount: 1234 });
  });

  it('a duplicate delivery of the same events, or a forced replay of them, announces nothing', async () => {
    const w = walletInvoice({ reason: 'topup_failed' });
    const events = paidEvents(w, 'out_of_band');
    await applyAll(events);
    expect(await heardSince()).toEqual(await ledgerIds(w.id));
    await applyAll(events);
    await processBatch(db.ds, events.map((e) => ({ body: JSON.stringify(e), force: false })));
    await applyAll(events, true);
    expect(await heardSince()).toEqual([]);
    expect(await ledgerIds(w.id)).toHaveLength(1);
  });

  it('one batch writing a credit and its refund announces each entry once, in the order written', async () => {
    const w = walletInvoice({ reason: 'manual', wallet_effect: 'credit' }, { amount: 3000 });
    const events = [...paidEvents(w, 'card'), refundOf(w, { amount: 500, at: w.start + 30 })];
    const outcomes = await processBatch(db.ds, events.map((e) => ({ body: JSON.stringify(e), force: false })));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const ids = await ledgerIds(w.id);
    expect(ids).toHaveLength(2);
    expect(await heardSince()).toEqual(ids);
  });

  it('an invoice that writes no entry (overage open, unknown reason paid) announces nothing', async () => {
    await applyAll([...paidEvents(walletInvoice({ reason: 'promo' }), 'card'), paidEvents(walletInvoice({ reason: 'overage' }), 'card')[0]!]);
    expect(await heardSince()).toEqual([]);
  });

  it('an insert rolled back announces nothing, and one not yet committed is not heard before its commit', async () => {
    const writer = new Client({ connectionString: db.url });
    await writer.connect();
    try {
      const insert = (key: string) =>
        writer.query(
          `INSERT INTO wallet_ledger (natural_key, entry_type, amount_cents, debt_settled_cents, stripe_customer_id, currency, stripe_invoice_id, source_event_id, livemode)
           VALUES ($1, 'topup_credit', 100, 0, 'cus_Notify', 'usd', $2, 'evt_notify', false) RETURNING id::text AS id`,
          [`topup_credit:${key}`, key],
        );
      await writer.query('BEGIN');
      await insert('in_RolledBack');
      expect(await heardSince()).toEqual([]);
      await writer.query('ROLLBACK');
      expect(await heardSince()).toEqual([]);
      expect(await ledgerIds('in_RolledBack')).toEqual([]);

      // The id the rolled-back row took is never announced; the next committed entry's is, alone.
      await writer.query('BEGIN');
      const { rows } = await insert('in_Committed');
      expect(await heardSince()).toEqual([]);
      await writer.query('COMMIT');
      expect(await heardSince()).toEqual([rows[0].id]);

      const w = walletInvoice({ reason: 'topup_failed' });
      await applyAll(paidEvents(w, 'out_of_band'));
      expect(await heardSince()).toEqual(await ledgerIds(w.id));
    } finally {
      await writer.end();
    }
  });
});
