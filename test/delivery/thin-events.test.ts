import { applyEvent } from '../support/apply-event';
import { findInvoice } from '../../src/db/invoice-rows';
import { createStripeClient } from '../../src/stripe/api-client';
import { invoiceFetcher } from '../../src/stripe/fetch-invoice';
import { MalformedEventError } from '../../src/billing/snapshot';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { postWebhook, startProcessor } from '../support/processor';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { invoice, sign, TEST_SECRET, uid } from '../support/stripe-events';
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
  const fetchInvoice = () => invoiceFetcher(createStripeClient({ secretKey: 'sk_test_thin', apiBase: api.url }, 'test'));
  const run = (e: unknown) => applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => NOW, fetchInvoice: fetchInvoice() });

  it('merges the fetched invoice, dated when it was fetched', async () => {
    const id = uid('in');
    api.invoices.put(paidInvoice(id));
    const e = thinEvent('v1.invoice.paid', id, { created: new Date(1_799_999_000_000) });
    expect(await run(e)).toMatchObject({ outcome: 'merged', type: 'invoice.paid', invoiceId: id });
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'paid', amountPaidCents: 4200, currency: 'eur', lastEventId: e['id'], lastEventCreatedAt: NOW });
    const [stored] = await db.ds.query(`SELECT type, payload->'thin_event'->>'created' AS thin FROM stripe_events WHERE id = $1`, [e['id']]);
    expect(stored).toEqual({ type: 'invoice.paid', thin: e['created'] });
    expect(api.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/invoices/${id}`, status: 200 });
  });

  it('backs off through rate limits and server errors', async () => {
    const id = uid('in');
    api.invoices.put(paidInvoice(id));
    api.failNext(429, 1);
    api.failNext(500, 1);
    expect(await run(thinEvent('v1.invoice.paid', id))).toMatchObject({ outcome: 'merged' });
    expect(api.requests.slice(-3).map((r) => r.status)).toEqual([429, 500, 200]);
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
