import { applyEvent } from '../support/apply-event';
import { findInvoice } from '../../src/db/invoices';
import { createStripeClient } from '../../src/stripe/api-client';
import { objectFetcher } from '../../src/stripe-objects/registry';
import { MalformedEventError } from '../../src/errors';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { postWebhook, startProcessor } from '../support/processor';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { event, invoice, sign, TEST_SECRET, uid } from '../support/stripe-events';
import { thinEvent } from '../support/thin-events';
import { waitFor } from '../support/wait';

let db: TestDatabase;
let api: StripeApi;
beforeAll(async () => {
  db = await createTestDatabase();
  api = await startStripeApi();
});
afterAll(async () => {
  await api.stop();
  await db.drop();
});

const NOW = 1_800_000_000;
const paidInvoice = (id: string) => invoice({ id, status: 'paid', amount_due: 4200, amount_paid: 4200, amount_remaining: 0, currency: 'eur', created: 1_700_000_000 });

describe('the consumer fetches the invoice a thin event refers to', () => {
  const fetchObject = () => objectFetcher(createStripeClient({ secretKey: 'sk_test_thin', apiBase: api.url }, 'test'));
  const run = (e: unknown) => applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => NOW, fetchObject: fetchObject() });

  it('merges the fetched invoice, dated when it was fetched', async () => {
    const id = uid('in');
    api.invoices.put(paidInvoice(id));
    const e = thinEvent('v1.invoice.paid', id, { created: new Date(1_799_999_000_000) });
    // The result keeps when Stripe created the event (the metrics' lag), the row when it was fetched.
    expect(await run(e)).toMatchObject({ outcome: 'merged', type: 'invoice.paid', object: 'invoice', objectId: id, created: 1_799_999_000 });
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'paid', amountPaidCents: 4200, currency: 'eur', lastEventId: e['id'], lastEventCreatedAt: NOW });
    const [stored] = await db.ds.query(`SELECT type, payload->'thin_event'->>'created' AS thin FROM stripe_events WHERE id = $1`, [e['id']]);
    expect(stored).toEqual({ type: 'invoice.paid', thin: e['created'] });
    expect(api.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/invoices/${id}`, status: 200 });
  });

  it('fetches a connected account’s invoice as that account', async () => {
    const id = uid('in');
    api.invoices.putAs('acct_1ConnectedTest', paidInvoice(id));
    const e: Record<string, unknown> = { ...thinEvent('v1.invoice.paid', id), context: 'acct_1ConnectedTest' };
    expect(await run(e)).toMatchObject({ outcome: 'merged', objectId: id });
    expect(api.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/invoices/${id}`, account: 'acct_1ConnectedTest' });
    const [stored] = await db.ds.query(`SELECT payload->>'account' AS account FROM stripe_events WHERE id = $1`, [e['id']]);
    expect(stored.account).toBe('acct_1ConnectedTest');
  });

  it('backs off through rate limits and server errors', async () => {
    const id = uid('in');
    api.invoices.put(paidInvoice(id));
    api.failNext(429, 1);
    api.failNext(500, 1);
    expect(await run(thinEvent('v1.invoice.paid', id))).toMatchObject({ outcome: 'merged' });
    expect(api.requests.slice(-3).map((r) => r.status)).toEqual([429, 500, 200]);
  });

  it('keeps, once it succeeds, the invoice it merged rather than the notice whose fetch failed before', async () => {
    const id = uid('in');
    api.invoices.put(paidInvoice(id));
    const e = thinEvent('v1.invoice.paid', id);
    api.failNext(500, 4);
    await expect(run(e)).rejects.toThrow();
    const [failed] = await db.ds.query(`SELECT processed_at, payload->>'object' AS object FROM stripe_events WHERE id = $1`, [e['id']]);
    expect(failed).toEqual({ processed_at: null, object: 'v2.core.event' });
    expect(await run(e)).toMatchObject({ outcome: 'merged' });
    const [stored] = await db.ds.query(`SELECT attempts, payload->>'object' AS object, payload->'data'->'object'->>'id' AS invoice FROM stripe_events WHERE id = $1`, [e['id']]);
    expect(stored).toEqual({ attempts: 2, object: 'event', invoice: id });
  });

  it('turns a deleted draft that Stripe no longer has into a deletion', async () => {
    const id = uid('in');
    expect(await run(thinEvent('v1.invoice.deleted', id))).toMatchObject({ outcome: 'merged' });
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ deletedAt: NOW });
  });

  it('refuses, as permanent, an invoice Stripe does not have, or a missing key', async () => {
    await expect(run(thinEvent('v1.invoice.paid', uid('in')))).rejects.toThrow(/does not exist at Stripe/);
    const noKey = applyEvent(db.ds, JSON.stringify(thinEvent('v1.invoice.paid', uid('in'))), { nowSeconds: () => NOW });
    await expect(noKey).rejects.toBeInstanceOf(MalformedEventError);
  });
});

describe('thin events at the webhook', () => {
  let sqs: TestSqs;
  beforeAll(async () => {
    sqs = await startTestSqs();
  });
  afterAll(async () => {
    await sqs.stop();
  });
  const services = () => ({ databaseUrl: db.url, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, endpoint: sqs.endpoint });
  const post = (baseUrl: string, e: Record<string, unknown>) => {
    const payload = JSON.stringify(e);
    return postWebhook(baseUrl, payload, sign(payload, TEST_SECRET));
  };

  it('are refused with a clear 400 without STRIPE_SECRET_KEY, and nothing is enqueued', async () => {
    const p = await startProcessor({ ...services(), roles: ['webhook'] });
    try {
      const r = await post(p.baseUrl, thinEvent('v1.invoice.paid', uid('in')));
      expect(r.status).toBe(400);
      expect(r.body?.['error']).toMatch(/Thin events .* need STRIPE_SECRET_KEY/);
      expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
    } finally {
      await p.stop();
    }
  });

  it('are verified, enqueued and merged end to end with a key', async () => {
    const p = await startProcessor({ ...services(), env: { STRIPE_SECRET_KEY: 'sk_test_thin', STRIPE_API_BASE: api.url } });
    try {
      const id = uid('in');
      api.invoices.put(paidInvoice(id));
      expect(await post(p.baseUrl, thinEvent('v1.invoice.paid', id))).toEqual({ status: 200, body: { received: true } });
      // Not about an invoice: verified, answered, never enqueued.
      const other = { ...thinEvent('v1.billing.meter.error_report_triggered', 'mtr_1'), related_object: { id: 'mtr_1', type: 'billing.meter' } };
      expect(await post(p.baseUrl, other)).toEqual({ status: 200, body: { received: true, ignored: true } });
      // Signed with a secret we do not have: refused like any other webhook.
      const forged = JSON.stringify(thinEvent('v1.invoice.paid', id));
      expect((await postWebhook(p.baseUrl, forged, sign(forged, 'whsec_someone_else_0123456789abcdef'))).status).toBe(400);
      await waitFor('the fetched invoice merged', () => findInvoice(db.ds.manager, id).then((row) => row?.status === 'paid'));
    } finally {
      await p.stop();
    }
  });
});

// With STRIPE_SECRET_KEY set, a snapshot event the schema cannot read is treated like a thin
// event: Stripe's current state of its object is fetched (the SDK pins a current API version) and
// merged, dated when it was fetched. Without the key it is stored with its reason.
describe('a snapshot the consumer cannot read', () => {
  const fetchObject = () => objectFetcher(createStripeClient({ secretKey: 'sk_test_unreadable', apiBase: api.url }, 'test'));
  /** An invoice.paid whose body no layout explains: the amounts are text. */
  const unreadable = (id: string) => event('invoice.paid', invoice({ id, status: 'paid', amount_due: 'lots' as unknown as number }), { created: NOW - 60 });

  it('fetches the object of a snapshot it cannot read and merges Stripe’s current state', async () => {
    const id = uid('in');
    api.invoices.put(invoice({ id, status: 'paid', amount_due: 4200, amount_paid: 4200, amount_remaining: 0, currency: 'eur' }));
    const e = unreadable(id);
    expect(await applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => NOW, fetchObject: fetchObject() })).toMatchObject({ outcome: 'merged', objectId: id });
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'paid', amountPaidCents: 4200, currency: 'eur', lastEventId: e['id'], lastEventCreatedAt: NOW });
    expect(api.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/invoices/${id}`, status: 200 });
    // The log keeps the event with what was merged, and says why the object was fetched.
    const [stored] = await db.ds.query(`SELECT processed_at IS NOT NULL AS processed, last_error, payload->>'fetched_because' AS why FROM stripe_events WHERE id = $1`, [e['id']]);
    expect(stored).toMatchObject({ processed: true, last_error: null });
    expect(stored.why).toMatch(/amount_due/);
  });

  it('stores the event with its reason when no key is set, and touches no row', async () => {
    const id = uid('in');
    const e = unreadable(id);
    await expect(applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => NOW })).rejects.toBeInstanceOf(MalformedEventError);
    const [stored] = await db.ds.query(`SELECT processed_at, attempts, last_error FROM stripe_events WHERE id = $1`, [e['id']]);
    expect(stored).toMatchObject({ processed_at: null, attempts: 1 });
    expect(stored.last_error).toMatch(/amount_due/);
    expect(await findInvoice(db.ds.manager, id)).toBeNull();
  });

  it('stores the event with its reason when Stripe has no such object either', async () => {
    const e = unreadable(uid('in'));
    await expect(applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => NOW, fetchObject: fetchObject() })).rejects.toThrow(/does not exist at Stripe/);
    const [stored] = await db.ds.query(`SELECT processed_at, last_error FROM stripe_events WHERE id = $1`, [e['id']]);
    expect(stored.processed_at).toBeNull();
    expect(stored.last_error).toMatch(/does not exist at Stripe/);
  });
});
