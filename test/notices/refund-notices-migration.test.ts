// RefundNotices1765200001000: the outbox keyed by (invoice, kind, sequence, subject), with the
// refund_issued kind; down() puts the old key and kinds back, and up() runs again.
import { runMigrations } from '../../src/db/data-source';
import { recordNotices } from '../../src/db/notice-outbox';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { uid } from '../support/stripe-events';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db?.drop();
});

const NOW = 1_800_000_000;
const insert = (invoice: string, kind: string, subject: string) =>
  db.ds.query(`INSERT INTO email_notices (stripe_invoice_id, kind, sequence, subject) VALUES ($1, $2, 0, $3)`, [invoice, kind, subject]);
const columns = async () =>
  ((await db.ds.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'email_notices' ORDER BY ordinal_position`)) as { column_name: string }[]).map((c) => c.column_name);

describe('RefundNotices1765200001000', () => {
  it('runs after the tables and views it follows', async () => {
    const names = ((await db.ds.query(`SELECT name FROM migrations ORDER BY id`)) as { name: string }[]).map((m) => m.name);
    expect(names.indexOf('RefundNotices1765200001000')).toBeGreaterThan(names.indexOf('MoneyFinanceViews1765200000000'));
  });

  it('keeps one row per (invoice, kind, sequence, subject); a refund notice must name its subject, the others must not', async () => {
    const invoice = uid('in');
    const written = await recordNotices(
      db.ds.manager,
      [
        { stripeInvoiceId: invoice, kind: 'invoice_paid', sequence: 0, skip: null },
        { stripeInvoiceId: invoice, kind: 'refund_issued', sequence: 0, skip: null, subject: 'refund:re_1', amountCents: 300 },
        { stripeInvoiceId: invoice, kind: 'refund_issued', sequence: 0, skip: null, subject: 'charge:ch_1:1000', amountCents: 700 },
        { stripeInvoiceId: invoice, kind: 'refund_issued', sequence: 0, skip: 'imported', subject: 'refund:re_1', amountCents: 999 },
      ],
      NOW,
    );
    expect(written).toEqual({ queued: 3, skipped: 0 });
    expect(await db.ds.query(`SELECT kind, subject, amount_cents::int AS amount FROM email_notices WHERE stripe_invoice_id = $1 ORDER BY id`, [invoice])).toEqual([
      { kind: 'invoice_paid', subject: '', amount: null },
      { kind: 'refund_issued', subject: 'refund:re_1', amount: 300 },
      { kind: 'refund_issued', subject: 'charge:ch_1:1000', amount: 700 },
    ]);
    await expect(insert(invoice, 'refund_issued', '')).rejects.toThrow(/email_notices_subject_check/);
    await expect(insert(invoice, 'invoice_issued', 'refund:re_1')).rejects.toThrow(/email_notices_subject_check/);
    await expect(insert(invoice, 'refund_issued', 'refund:re_1')).rejects.toThrow(/email_notices_once/);
  });

  it('down() drops the refund notices and puts back the old key and kinds; up() runs again', async () => {
    const invoice = uid('in');
    await insert(invoice, 'invoice_paid', '');
    await insert(invoice, 'refund_issued', 'refund:re_down');
    const names = ((await db.ds.query(`SELECT name FROM migrations ORDER BY id`)) as { name: string }[]).map((m) => m.name);
    const fromThis = names.slice(names.indexOf('RefundNotices1765200001000'));
    for (let i = 0; i < fromThis.length; i++) await db.ds.undoLastMigration({ transaction: 'each' });

    expect(await columns()).not.toEqual(expect.arrayContaining(['subject']));
    expect(await columns()).not.toEqual(expect.arrayContaining(['amount_cents']));
    expect(await db.ds.query(`SELECT kind FROM email_notices WHERE stripe_invoice_id = $1`, [invoice])).toEqual([{ kind: 'invoice_paid' }]);
    await expect(db.ds.query(`INSERT INTO email_notices (stripe_invoice_id, kind) VALUES ($1, 'refund_issued')`, [invoice])).rejects.toThrow(/email_notices_kind_check/);
    await expect(db.ds.query(`INSERT INTO email_notices (stripe_invoice_id, kind) VALUES ($1, 'invoice_paid')`, [invoice])).rejects.toThrow(/email_notices_once/);

    expect(await runMigrations(db.ds)).toEqual(fromThis);
    expect(await columns()).toEqual(expect.arrayContaining(['subject', 'amount_cents']));
    expect(await db.ds.query(`SELECT subject FROM email_notices WHERE stripe_invoice_id = $1`, [invoice])).toEqual([{ subject: '' }]);
  });
});
