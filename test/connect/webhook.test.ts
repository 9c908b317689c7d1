// A Connect endpoint is a second webhook endpoint with a signing secret of its own: one more entry
// of STRIPE_WEBHOOK_SECRET. Its events (each naming the connected account in `account`) are
// verified, enqueued and applied as the platform's are, and stored with their account.
import { findInvoice } from '../../src/db/invoices';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { postWebhook, startProcessor } from '../support/processor';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, ofAccount, sign, TEST_SECRET, uid } from '../support/stripe-events';
import { waitFor } from '../support/wait';

const CONNECT_SECRET = 'whsec_connect_9876543210zyxwvutsrqponmlkjihg';
const ACCOUNT = 'acct_1WebhookConnect';

let db: TestDatabase;
let sqs: TestSqs;
beforeAll(async () => {
  [db, sqs] = await Promise.all([createTestDatabase(), startTestSqs()]);
});
afterAll(async () => {
  await Promise.all([db?.drop(), sqs?.stop()]);
});

const created = (id: string) => event('invoice.created', invoice({ id, status: 'draft', number: null, amount_due: 1200, amount_remaining: 1200, currency: 'usd', metadata: {} }));

it('takes a Connect event signed with the second secret and stores it, and its invoice, with the account', async () => {
  const p = await startProcessor({
    databaseUrl: db.url,
    queueUrl: sqs.queueUrl,
    dlqUrl: sqs.dlqUrl,
    endpoint: sqs.endpoint,
    env: { STRIPE_WEBHOOK_SECRET: `${TEST_SECRET}, ${CONNECT_SECRET}` },
  });
  try {
    const connected = uid('in');
    const own = uid('in');
    const connectEvent = JSON.stringify(ofAccount(created(connected), ACCOUNT));
    const platformEvent = JSON.stringify(created(own));
    expect(await postWebhook(p.baseUrl, connectEvent, sign(connectEvent, CONNECT_SECRET))).toMatchObject({ status: 200, body: { received: true } });
    expect(await postWebhook(p.baseUrl, platformEvent, sign(platformEvent, TEST_SECRET))).toMatchObject({ status: 200, body: { received: true } });
    // A secret of neither endpoint is refused as always.
    expect((await postWebhook(p.baseUrl, connectEvent, sign(connectEvent, 'whsec_neither_0123456789abcdefghijklmn'))).status).toBe(400);

    await waitFor('both invoices stored', async () => (await findInvoice(db.ds.manager, connected)) !== null && (await findInvoice(db.ds.manager, own)) !== null);
    expect(await findInvoice(db.ds.manager, connected)).toMatchObject({ status: 'draft', stripeAccountId: ACCOUNT });
    expect(await findInvoice(db.ds.manager, own)).toMatchObject({ status: 'draft', stripeAccountId: null });
    const stored: Array<{ stripe_invoice_id: string; stripe_account_id: string | null; processed: boolean }> = await db.ds.query(
      `SELECT stripe_invoice_id, stripe_account_id, processed_at IS NOT NULL AS processed FROM stripe_events WHERE stripe_invoice_id = ANY($1) ORDER BY stripe_account_id NULLS LAST`,
      [[connected, own]],
    );
    expect(stored).toEqual([
      { stripe_invoice_id: connected, stripe_account_id: ACCOUNT, processed: true },
      { stripe_invoice_id: own, stripe_account_id: null, processed: true },
    ]);
    await waitFor('the queue drained', async () => (await depth(sqs.client, sqs.queueUrl)) === 0);
  } finally {
    await p.stop();
  }
});
