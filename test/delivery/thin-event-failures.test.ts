// Found by the fault suite's fuzz: a verified thin event whose invoice Stripe does not have went
// to the DLQ with nothing in stripe_events, although the README promises the reason there.
import { applyEvent } from '../support/apply-event';
import { createStripeClient } from '../../src/stripe/api-client';
import { objectFetcher } from '../../src/stripe-objects/registry';
import { MalformedEventError } from '../../src/errors';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { uid } from '../support/stripe-events';
import { thinEvent } from '../support/thin-events';

let db: TestDatabase;
let api: StripeApi;
beforeAll(async () => {
  db = await createTestDatabase(2);
  api = await startStripeApi();
});
afterAll(async () => {
  await api.stop();
  await db.drop();
});

const logged = async (id: string) =>
  (await db.ds.query(`SELECT type, stripe_invoice_id, extract(epoch from created)::bigint AS created, processed_at, attempts, last_error FROM stripe_events WHERE id = $1`, [id]))[0];

it('records why a thin event failed when Stripe does not have its invoice', async () => {
  const invoiceId = uid('in');
  const e = thinEvent('v1.invoice.paid', invoiceId, { created: new Date(1_790_000_000_000) });
  const fetchObject = objectFetcher(createStripeClient({ secretKey: 'sk_test_thin', apiBase: api.url }, 'test'));
  await expect(applyEvent(db.ds, JSON.stringify(e), { fetchObject })).rejects.toBeInstanceOf(MalformedEventError);
  expect(await logged(e['id'] as string)).toMatchObject({ type: 'v1.invoice.paid', stripe_invoice_id: invoiceId, created: '1790000000', processed_at: null, attempts: 1 });
  expect((await logged(e['id'] as string)).last_error).toMatch(/does not exist at Stripe/);
});

it('records a thin event received while no API key is set', async () => {
  const e = thinEvent('v1.invoice.finalized', uid('in'));
  await expect(applyEvent(db.ds, JSON.stringify(e), {})).rejects.toBeInstanceOf(MalformedEventError);
  expect((await logged(e['id'] as string)).last_error).toMatch(/STRIPE_SECRET_KEY/);
});
