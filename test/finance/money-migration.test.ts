import { runMigrations } from '../../src/db/data-source';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { uid } from '../support/stripe-events';
import { insertCharge, insertInvoicePayment } from './money-rows';
import { insertInvoice } from './rows';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db.drop();
});

const columnsOf = async (view: string): Promise<string[]> =>
  ((await db.ds.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [view])) as { column_name: string }[]).map(
    (c) => c.column_name,
  );
const readable = async (relation: string): Promise<boolean> =>
  ((await db.ds.query(`SELECT has_table_privilege('billing_readonly', $1, 'SELECT') AS can`, [relation])) as { can: boolean }[])[0]!.can;

describe('MoneyFinanceViews1765200000000', () => {
  it('runs after the migrations that create the tables it reads', async () => {
    const applied: { name: string }[] = await db.ds.query(`SELECT name FROM migrations ORDER BY id`);
    const names = applied.map((m) => m.name);
    expect(names.indexOf('MoneyFinanceViews1765200000000')).toBeGreaterThan(names.indexOf('PaymentTables1765100000000'));
    expect(names.indexOf('MoneyFinanceViews1765200000000')).toBeGreaterThan(names.indexOf('CreditNotesAndCustomers1765100001000'));
  });

  it('down() puts back the views without the money columns, keeps the rows and the role’s reading, and up() runs again', async () => {
    const inv = await insertInvoice(db.ds, { status: 'paid', amountCents: 900, amountPaidCents: 900 });
    await insertInvoicePayment(db.ds, { id: uid('inpay'), invoiceId: inv, paymentIntentId: 'pi_down', amountCents: 900 });
    await insertCharge(db.ds, { id: uid('ch'), paymentIntentId: 'pi_down', refundedCents: 400 });
    const applied = ((await db.ds.query(`SELECT name FROM migrations ORDER BY id`)) as { name: string }[]).map((m) => m.name);
    const fromThis = applied.slice(applied.indexOf('MoneyFinanceViews1765200000000'));

    for (let i = 0; i < fromThis.length; i++) await db.ds.undoLastMigration({ transaction: 'each' });
    expect((await columnsOf('finance_invoices')).at(-1)).toBe('metadata');
    for (const view of ['finance_payments', 'finance_credit_notes', 'finance_invoice_charges']) expect(await columnsOf(view)).toEqual([]);
    for (const view of ['finance_invoices', 'receivables_aging', 'overdue_invoices', 'finance_invoice_rows']) expect(await readable(view)).toBe(true);
    expect(await db.ds.query(`SELECT count(*)::int AS n FROM charges`)).toEqual([{ n: 1 }]);

    expect(await runMigrations(db.ds)).toEqual(fromThis);
    // Right after metadata; later migrations append their columns after these (ConnectedAccounts: stripe_account_id).
    const columns = await columnsOf('finance_invoices');
    expect(columns.slice(columns.indexOf('metadata') + 1, columns.indexOf('metadata') + 8)).toEqual(['amount_refunded_cents', 'amount_refunded', 'amount_credited_cents', 'amount_credited', 'net_collected_cents', 'net_collected', 'receipt_url']);
    expect(await db.ds.query(`SELECT amount_refunded_cents, net_collected FROM finance_invoices WHERE invoice_id = $1`, [inv])).toEqual([{ amount_refunded_cents: '400', net_collected: '5.00' }]);
    for (const view of ['finance_payments', 'finance_credit_notes', 'finance_invoice_charges']) expect(await readable(view)).toBe(true);
  });
});
