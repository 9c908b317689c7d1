import { financeInvoicesQuery, financePaymentsQuery, type FinanceQuery } from '../../src/db/finance-views';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { uid } from '../support/stripe-events';
import { insertCharge, insertCreditNote, insertInvoicePayment, insertRefund } from './money-rows';
import { insertInvoice } from './rows';

let db: TestDatabase;
const MONEY_TABLES = ['invoice_payments', 'charges', 'refunds', 'credit_notes'];
const INVOICES = 30;

beforeAll(async () => {
  db = await createTestDatabase(2);
  for (let i = 0; i < INVOICES; i++) {
    const inv = await insertInvoice(db.ds, { customerId: 'cus_plans', status: 'paid', amountCents: 1000, amountPaidCents: 1000, createdAt: `2026-01-01T00:${String(i).padStart(2, '0')}:00Z` });
    const [pi, ch] = [uid('pi'), uid('ch')];
    await insertInvoicePayment(db.ds, { id: uid('inpay'), invoiceId: inv, paymentIntentId: pi, createdAt: `2026-01-01T00:${String(i).padStart(2, '0')}:00Z` });
    await insertCharge(db.ds, { id: ch, paymentIntentId: pi, refundedCents: 100 });
    await insertRefund(db.ds, { id: uid('re'), chargeId: ch, paymentIntentId: pi });
    await insertCreditNote(db.ds, { id: uid('cn'), invoiceId: inv, createdAt: `2026-01-01T00:${String(i).padStart(2, '0')}:00Z` });
  }
  await db.ds.query('ANALYZE');
});
afterAll(async () => {
  await db.drop();
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

async function plan(text: string, values: unknown[] = [], analyze = false): Promise<PlanNode[]> {
  const [row]: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] = await db.ds.query(`EXPLAIN (FORMAT JSON${analyze ? ', ANALYZE' : ''}) ${text}`, values);
  return nodes(row!['QUERY PLAN'][0].Plan);
}

const relations = (plan: PlanNode[]) => new Set(plan.flatMap((n) => (n['Relation Name'] ? [n['Relation Name']] : [])));
/** How many times the plan read the table: one scan node per loop. */
const scansOf = (plan: PlanNode[], table: string) => plan.filter((n) => n['Relation Name'] === table).reduce((sum, n) => sum + (n['Actual Loops'] ?? 0), 0);

describe('the money columns cost nothing to a query that does not read them', () => {
  it.each([
    ['receivables_aging', 'SELECT * FROM receivables_aging'],
    ['overdue totals', 'SELECT currency, count(*), sum(amount_remaining_cents) FROM overdue_invoices GROUP BY currency'],
    ['invoice totals', 'SELECT status, currency, sum(amount_remaining_cents), sum(amount_written_off_cents) FROM finance_invoice_rows GROUP BY 1, 2'],
  ])('%s reads no payment, charge, refund or credit note', async (_name, sql) => {
    const read = relations(await plan(sql));
    for (const table of MONEY_TABLES) expect(read).not.toContain(table);
  });
});

describe('a page of a listing looks up the money of its own rows only', () => {
  // One lookup per row of the lateral that reads the table once per row; before the page was chosen
  // first, every matching row's money was looked up and then all but the page thrown away.
  it.each<[string, string, FinanceQuery]>([
    ['invoices of a customer', 'credit_notes', financeInvoicesQuery({ customerId: 'cus_plans', limit: 5 })],
    ['invoices', 'credit_notes', financeInvoicesQuery({ limit: 5 })],
    ['payments', 'refunds', financePaymentsQuery({ limit: 5 })],
  ])('%s: %s is read for the 5 rows of the page, not for all 30', async (_name, table, q) => {
    const p = await plan(q.text, q.values, true);
    expect(scansOf(p, table)).toBeGreaterThan(0);
    expect(scansOf(p, table)).toBeLessThanOrEqual(5);
  });
});

describe('one invoice is found through the indexes on stripe_invoice_id', () => {
  it('reads its payments, charges and credit notes by index, not by scanning the tables', async () => {
    const [{ invoice_id: id }]: { invoice_id: string }[] = await db.ds.query(`SELECT invoice_id FROM finance_invoices LIMIT 1`);
    // With sequential scans priced out, a scan left in the plan is one no index could replace.
    const p = await db.ds.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      const [row]: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] = await tx.query(`EXPLAIN (FORMAT JSON) SELECT * FROM finance_invoices WHERE invoice_id = $1`, [id]);
      return nodes(row!['QUERY PLAN'][0].Plan);
    });
    const seqScanned = p.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
    expect(seqScanned.filter((t) => MONEY_TABLES.includes(t!) || t === 'invoices')).toEqual([]);
    for (const table of ['invoice_payments', 'charges', 'credit_notes']) expect(relations(p)).toContain(table);
  });
});
