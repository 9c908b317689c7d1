/**
 * Whose page a link opens: a customer no owner holds yet (a new tenant, before its first invoice)
 * gets a page with nothing on it rather than an error; a customer another owner holds gets the bad
 * link's 404, also when a contact without an owner names it.
 */
import { signPortalToken, type PortalClaims } from '../../src/billing-page/token';
import { upsertContact } from '../../src/db/billing-contacts';
import { readOnlyPage } from '../../src/db/billing-page';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { uid } from '../support/stripe-events';
import { seedInvoices } from './seed';
import { PORTAL_SECRET, startPageServer, type PageServer } from './server';

let db: TestDatabase;
let server: PageServer;
const connected = { customer: uid('cus'), name: 'Connected Co', email: 'ap@connected.test', account: 'acct_1OwnerTest' };

const link = (c: Partial<PortalClaims> & { customerId: string }) =>
  `${server.origin}/billing/${signPortalToken({ accountId: null, role: 'admin', expiresAt: Math.floor(Date.now() / 1000) + 3600, ...c }, PORTAL_SECRET)}`;

beforeAll(async () => {
  db = await createTestDatabase(4);
  await seedInvoices(db.ds, connected, [{ kind: 'open' }]);
  // A contact made by `billing contacts set` before any event names the customer, and has no owner.
  await upsertContact(db.ds.manager, connected.customer, { invoiceEmail: 'secret-ap@connected.test' });
  server = await startPageServer(db.ds);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

it('shows a new customer an empty page: nothing due, no invoices yet', async () => {
  const res = await fetch(link({ customerId: uid('cus') }));
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain('Nothing is due.');
  expect(html).toContain('No invoices yet.');
  const json = (await (await fetch(`${link({ customerId: uid('cus') })}.json`)).json()) as Record<string, unknown>;
  expect(json).toMatchObject({ overview: [], overdue: [], invoices: [], contact: { invoice_email: null } });
});

it("answers 404 for another owner's customer, and never shows the address of its ownerless contact", async () => {
  const notFound = await (await fetch(`${server.origin}/billing/not-a-token`)).text();
  for (const accountId of [null, 'acct_1SomeoneElse']) {
    const res = await fetch(link({ customerId: connected.customer, accountId }));
    expect(res.status).toBe(404);
    const body = await res.text();
    expect(body).toBe(notFound);
    expect(body).not.toContain('connected.test');
  }
  const own = await fetch(link({ customerId: connected.customer, accountId: connected.account }));
  expect(own.status).toBe(200);
});

it('reads in a read-only transaction: a public page cannot write, whatever role it connects as', async () => {
  await expect(readOnlyPage(db.ds.manager, (tx) => tx.query(`INSERT INTO billing_contacts (stripe_customer_id) VALUES ('cus_ReadOnly')`))).rejects.toThrow(/read-only transaction/);
});
