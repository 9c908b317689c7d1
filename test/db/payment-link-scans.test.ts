/**
 * The two link statements of a payment read indexes only, whatever plan PostgreSQL holds for them:
 * each is a named statement, and a connection keeps the generic plan it made, maybe while the
 * tables were small. On tables of a young deployment (hundreds of payments, charges still waiting
 * for their invoice payments), the charge link once re-ran its lookup for every waiting charge it
 * joined against, each a whole scan of invoice_payments: thousands of scans to link ten charges.
 * Nor may a statement start from "not linked yet": the waiting charges are many after a burst, and
 * one-off charges wait for good. The tables are as large as a deployment's after its first weeks;
 * on a few hundred rows a whole scan is the cheaper plan, and PostgreSQL rightly takes it.
 */
import { linkChargesToInvoices, findCharge } from '../../src/db/charges';
import { findInvoicePayment, linkInvoicePaymentsToCharges } from '../../src/db/invoice-payments';
import { readCommitted } from '../../src/db/read-committed';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
/** Paid and linked payments stored before, and charges waiting for their invoice payment. */
const ROWS = 10_000;
const WAITING = 300;

beforeAll(async () => {
  db = await createTestDatabase(2);
  // Statistics as in a new deployment, kept still: the plan is the one made before any ANALYZE.
  await db.ds.query('ALTER TABLE invoice_payments SET (autovacuum_enabled = off)');
  await db.ds.query('ALTER TABLE charges SET (autovacuum_enabled = off)');
  // A stored history of paid invoice payments, each linked to its charge; then charges whose
  // invoice payments have not arrived yet (on a current API version a charge names no invoice).
  await db.ds.query(
    `INSERT INTO invoice_payments (stripe_invoice_payment_id, stripe_invoice_id, stripe_payment_intent_id, stripe_charge_id, status,
       amount_cents, amount_requested_cents, currency, is_default, paid_at, created_at, livemode, last_event_id, last_event_created_at)
     SELECT 'inpay_old_' || g, 'in_old_' || g, 'pi_old_' || g, 'ch_old_' || g, 'paid', 1000, 1000, 'usd', true, now(), now(), false, 'evt_ip_' || g, now()
       FROM generate_series(1, $1::int) g`,
    [ROWS],
  );
  await db.ds.query(
    `INSERT INTO charges (stripe_charge_id, stripe_payment_intent_id, stripe_invoice_id, status, amount_cents, amount_captured_cents,
       amount_refunded_cents, refunded, currency, created_at, livemode, last_event_id, last_event_created_at)
     SELECT 'ch_old_' || g, 'pi_old_' || g, 'in_old_' || g, 'succeeded', 1000, 1000, 0, false, 'usd', now(), false, 'evt_ch_' || g, now()
       FROM generate_series(1, $1::int) g
     UNION ALL
     SELECT 'ch_wait_' || g, 'pi_wait_' || g, NULL, 'succeeded', 500, 500, 0, false, 'usd', now(), false, 'evt_chw_' || g, now()
       FROM generate_series(1, $2::int) g`,
    [ROWS, WAITING],
  );
});
afterAll(async () => {
  await db?.drop();
});

/** The invoice payments of the first `n` waiting charges' payment intents arrive, not linked yet. */
async function paymentsArrive(from: number, n: number): Promise<string[]> {
  const rows: { stripe_invoice_payment_id: string }[] = await db.ds.query(
    `INSERT INTO invoice_payments (stripe_invoice_payment_id, stripe_invoice_id, stripe_payment_intent_id, status, amount_cents,
       amount_requested_cents, currency, is_default, paid_at, created_at, livemode, last_event_id, last_event_created_at)
     SELECT 'inpay_new_' || g, 'in_new_' || g, 'pi_wait_' || g, 'paid', 500, 500, 'usd', true, now(), now(), false, 'evt_ipn_' || g, now()
       FROM generate_series($1::int, $1::int + $2::int - 1) g
     RETURNING stripe_invoice_payment_id`,
    [from, n],
  );
  return rows.map((r) => r.stripe_invoice_payment_id);
}

interface Reads {
  /** Whole-table scans of each table. */
  scans: { invoice_payments: number; charges: number };
  /** Rows of the two tables fetched through indexes: a walk through every waiting charge shows here. */
  fetched: number;
}

/** What the statements `work` sends read of the two tables, in its own transaction. */
async function readsOf(work: Parameters<typeof readCommitted>[1]): Promise<Reads> {
  return readCommitted(db.ds, async (m) => {
    // The worst plan a connection can hold: generic, made without the values.
    await m.query('SET LOCAL plan_cache_mode = force_generic_plan');
    await work(m);
    const rows: { relname: 'invoice_payments' | 'charges'; seq_scan: string; idx_tup_fetch: string }[] = await m.query(
      `SELECT relname, seq_scan, idx_tup_fetch FROM pg_stat_xact_user_tables WHERE relname IN ('invoice_payments', 'charges')`,
    );
    return {
      scans: { invoice_payments: 0, charges: 0, ...Object.fromEntries(rows.map((r) => [r.relname, Number(r.seq_scan)])) },
      fetched: rows.reduce((n, r) => n + Number(r.idx_tup_fetch), 0),
    };
  });
}

/** Ten payments link by a few dozen rows, never by the waiting charges or payments as a whole. */
function expectKeyLookups(reads: Reads): void {
  expect(reads.scans).toEqual({ invoice_payments: 0, charges: 0 });
  expect(reads.fetched).toBeLessThan(WAITING / 3);
}

describe('linking payments among thousands stored', () => {
  it('links ten charges to their invoices by index lookups', async () => {
    const ids = await paymentsArrive(1, 10);
    expectKeyLookups(await readsOf((m) => linkChargesToInvoices(m, { invoicePaymentIds: ids, chargeIds: [] })));
    expect(await findCharge(db.ds.manager, 'ch_wait_7')).toMatchObject({ stripeInvoiceId: 'in_new_7' });
  });

  it('links a charge named by its id, and ten invoice payments to their charges, by index lookups', async () => {
    const ids = await paymentsArrive(11, 10);
    expectKeyLookups(await readsOf((m) => linkChargesToInvoices(m, { invoicePaymentIds: [], chargeIds: ['ch_wait_12'] })));
    expect(await findCharge(db.ds.manager, 'ch_wait_12')).toMatchObject({ stripeInvoiceId: 'in_new_12' });
    expectKeyLookups(await readsOf((m) => linkInvoicePaymentsToCharges(m, { invoicePaymentIds: ids, chargeIds: [] })));
    expect(await findInvoicePayment(db.ds.manager, 'inpay_new_15')).toMatchObject({ stripeChargeId: 'ch_wait_15' });
  });
});
