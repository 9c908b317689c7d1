// ConnectedAccounts1765500000000 and its indexes: the account column on every table, appended at
// the end of the finance views that list rows (so a CSV read by column position keeps working),
// readable by billing_readonly; down() puts the views back as they were and keeps every row.
import { runMigrations } from '../../src/db/data-source';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ofAccount, paidLifecycle, uid } from '../support/stripe-events';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db?.drop();
});

const FIRST = 'ConnectedAccounts1765500000000';
const TABLES = ['invoices', 'invoice_payments', 'charges', 'refunds', 'credit_notes', 'billing_contacts', 'stripe_events'];
const LISTING_VIEWS = ['finance_invoice_rows', 'finance_invoices', 'overdue_invoices', 'finance_payments', 'finance_credit_notes'];

const columnsOf = async (relation: string): Promise<string[]> =>
  ((await db.ds.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [relation])) as { column_name: string }[]).map(
    (c) => c.column_name,
  );
const readable = async (relation: string): Promise<boolean> =>
  ((await db.ds.query(`SELECT has_table_privilege('billing_readonly', $1, 'SELECT') AS can`, [relation])) as { can: boolean }[])[0]!.can;
const indexes = async (): Promise<string[]> =>
  ((await db.ds.query(`SELECT indexname FROM pg_indexes WHERE indexname LIKE '%account_idx' ORDER BY 1`)) as { indexname: string }[]).map((r) => r.indexname);

it('appends stripe_account_id at the end of each finance view that lists rows, after the columns it had', async () => {
  const previousLast: Record<string, string> = {
    finance_invoice_rows: 'receipt_url',
    finance_invoices: 'receipt_url',
    overdue_invoices: 'receipt_url',
    finance_payments: 'livemode',
    finance_credit_notes: 'livemode',
  };
  for (const view of LISTING_VIEWS) expect([view, (await columnsOf(view)).slice(-2)]).toEqual([view, [previousLast[view], 'stripe_account_id']]);
  for (const table of TABLES) expect(await columnsOf(table)).toContain('stripe_account_id');
  for (const view of [...LISTING_VIEWS, 'receivables_aging_by_account']) expect([view, await readable(view)]).toEqual([view, true]);
  expect(await indexes()).toEqual(['invoices_account_idx', 'stripe_events_account_idx']);
});

it('undone, drops the column and the view it added and keeps every row; up() runs again', async () => {
  const id = uid('in');
  for (const e of paidLifecycle(id, 1_700_000_000)) await applyEvent(db.ds, JSON.stringify(ofAccount(e, 'acct_1Migrate')));
  const before = await columnsOf('finance_invoices');
  const applied = ((await db.ds.query(`SELECT name FROM migrations ORDER BY id`)) as { name: string }[]).map((m) => m.name);
  const fromThis = applied.slice(applied.indexOf(FIRST));
  for (let i = 0; i < fromThis.length; i++) await db.ds.undoLastMigration({ transaction: 'each' });

  for (const table of TABLES) expect(await columnsOf(table)).not.toContain('stripe_account_id');
  expect(await columnsOf('finance_invoices')).toEqual(before.slice(0, -1));
  expect(await columnsOf('receivables_aging_by_account')).toEqual([]);
  expect(await indexes()).toEqual([]);
  for (const view of [...LISTING_VIEWS, 'receivables_aging']) expect([view, await readable(view)]).toEqual([view, true]);
  expect(await db.ds.query(`SELECT status FROM finance_invoices WHERE invoice_id = $1`, [id])).toEqual([{ status: 'paid' }]);
  expect(await db.ds.query(`SELECT count(*)::int AS n FROM stripe_events WHERE stripe_invoice_id = $1`, [id])).toEqual([{ n: 6 }]);

  expect(await runMigrations(db.ds)).toEqual(fromThis);
  expect(await columnsOf('finance_invoices')).toEqual(before);
  // The rows written before take the account their last event named, as do the events.
  expect(await db.ds.query(`SELECT stripe_account_id FROM finance_invoices WHERE invoice_id = $1`, [id])).toEqual([{ stripe_account_id: 'acct_1Migrate' }]);
  expect(await db.ds.query(`SELECT DISTINCT stripe_account_id FROM stripe_events WHERE stripe_invoice_id = $1`, [id])).toEqual([{ stripe_account_id: 'acct_1Migrate' }]);
  // So the account's next event applies, rather than being refused as another owner's.
  const [later] = paidLifecycle(id, 1_700_000_000).slice(-1);
  const next = { ...ofAccount(later!, 'acct_1Migrate'), id: uid('evt'), created: 1_700_100_000 };
  await expect(applyEvent(db.ds, JSON.stringify(next))).resolves.toMatchObject({ objectId: id });
});
