/**
 * The two link statements of a payment read indexes only, whatever plan PostgreSQL holds for them:
 * each is a named statement, and a connection keeps the generic plan it made, maybe while the
 * tables were small. On tables of a young deployment (hundreds of payments, charges still waiting
 * for their invoice payments), the charge link once re-ran its lookup for every waiting charge it
 * joined against, each a whole scan of invoice_payments: thousands of scans to link ten charges.
 */
import { linkChargesToInvoices, findCharge } from '../../src/db/charges';
import { findInvoicePayment, linkInvoicePaymentsToCharges } from '../../src/db/invoice-payments';
import { readCommitted } from '../../src/db/read-committed';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
/** Paid and linked payments stored before, and charges waiting for their invoice payment. */
const ROWS = 300;
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

/** Whole-table scans of the two tables by the statements `work` sends, in its own transaction. */
async function scansOf(work: Parameters<typeof readCommitted>[1]): Promise<{ invoice_payments: number; charges: number }> {
  return readCommitted(db.ds, async (m) => {
    // The worst plan a connection can hold: generic, made without the values.
    await m.query('SET LOCAL plan_cache_mode = force_generic_plan');
    await work(m);
    const rows: { relname: 'invoice_payments' | 'charges'; seq_scan: string }[] = await m.query(
      `SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE relname IN ('invoice_payments', 'charges')`,
    );
    return { invoice_payments: 0, charges: 0, ...Object.fromEntries(rows.map((r) => [r.relname, Number(r.seq_scan)])) };
  });
}

describe('linking payments among thousands stored', () => {
  it('links ten charges to their invoices by index lookups', async () => {
    const ids = await paymentsArrive(1, 10);
    expect(await scansOf((m) => linkChargesToInvoices(m, { invoicePaymentIds: ids, chargeIds: [] }))).toEqual({ invoice_payments: 0, charges: 0 });
    expect(await findCharge(db.ds.manager, 'ch_wait_7')).toMatchObject({ stripeInvoiceId: 'in_new_7' });
  });

  it('links a charge named by its id, and ten invoice payments to their charges, by index lookups', async () => {
    const ids = await paymentsArrive(11, 10);
    expect(await scansOf((m) => linkChargesToInvoices(m, { invoicePaymentIds: [], chargeIds: ['ch_wait_12'] }))).toEqual({ invoice_payments: 0, charges: 0 });
    expect(await findCharge(db.ds.manager, 'ch_wait_12')).toMatchObject({ stripeInvoiceId: 'in_new_12' });
    expect(await scansOf((m) => linkInvoicePaymentsToCharges(m, { invoicePaymentIds: ids, chargeIds: [] }))).toEqual({ invoice_payments: 0, charges: 0 });
    expect(await findInvoicePayment(db.ds.manager, 'inpay_new_15')).toMatchObject({ stripeChargeId: 'ch_wait_15' });
  });
});
