/**
 * Stripe's health alert end to end: posted as a signed thin event to the webhook, queued, and
 * taken by the worker. With STRIPE_SECRET_KEY the object it names is repaired at once; without,
 * the alert is stored and answered 200, `stats` says it needs `reconcile --alerts`, and that
 * command (the built CLI) repairs it. Real PostgreSQL, SQS server and Stripe API test server.
 */
import { findInvoice } from '../../src/db/invoices';
import { HEALTH_ALERT_TYPE } from '../../src/stripe-objects/health-alert';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { postWebhook, startProcessor } from '../support/processor';
import { startTestSqs, type TestSqs } from '../support/sqs';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { event, sign, TEST_SECRET, uid } from '../support/stripe-events';
import { openInvoiceAt, paidInvoiceAt } from '../support/listed-invoices';
import { waitFor } from '../support/wait';
import { billing, requireBuild } from '../recovery/cli-helper';

const KEY = 'sk_test_alertdelivery0123456789';
const CREATED = Math.floor(Date.now() / 1000) - 3600;

let db: TestDatabase;
let api: StripeApi;
let sqs: TestSqs;
beforeAll(async () => {
  requireBuild();
  [db, api, sqs] = await Promise.all([createTestDatabase(), startStripeApi(), startTestSqs()]);
});
afterAll(async () => {
  await Promise.all([api?.stop(), sqs?.stop()]);
  await db?.drop();
});

const services = () => ({ databaseUrl: db.url, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, endpoint: sqs.endpoint });
const post = (baseUrl: string, e: Record<string, unknown>) => {
  const payload = JSON.stringify(e);
  return postWebhook(baseUrl, payload, sign(payload, TEST_SECRET));
};

const openInvoice = (id: string) => openInvoiceAt(id, CREATED);
const paidInvoice = (id: string) => paidInvoiceAt(id, CREATED);

/** The notification Stripe posts (no details), and the v2 event the API answers with. */
function alertAbout(invoiceId: string) {
  const notification = { id: uid('evt_test'), object: 'v2.core.event', type: HEALTH_ALERT_TYPE, created: new Date().toISOString(), livemode: false, reason: null };
  api.v2Events.put({
    ...notification,
    data: { impact: { event_type: 'invoice.paid', related_object: { id: invoiceId, type: 'invoice', url: `/v1/invoices/${invoiceId}` } }, resolved_at: new Date().toISOString(), summary: 'We have failed to create a notification for your Stripe account.' },
  });
  return notification;
}

const stored = async (id: string) =>
  (await db.ds.query(`SELECT processed_at IS NOT NULL AS processed, last_error, stripe_invoice_id FROM stripe_events WHERE id = $1`, [id]))[0] as
    | { processed: boolean; last_error: string | null; stripe_invoice_id: string | null }
    | undefined;

it('with a key: the worker reads the invoice again, the row becomes paid and its paid email is queued', async () => {
  const p = await startProcessor({ ...services(), env: { STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: api.url } });
  try {
    const id = uid('in');
    expect((await post(p.baseUrl, event('invoice.finalized', openInvoice(id), { created: CREATED + 10 }))).status).toBe(200);
    await waitFor('the open invoice', () => findInvoice(db.ds.manager, id).then((r) => r?.status === 'open'));
    api.invoices.put(paidInvoice(id));

    const alert = alertAbout(id);
    expect(await post(p.baseUrl, alert)).toEqual({ status: 200, body: { received: true } });
    await waitFor('the repaired invoice', () => findInvoice(db.ds.manager, id).then((r) => r?.status === 'paid'));
    await waitFor('the alert recorded as repaired', async () => (await stored(alert.id))?.processed === true);
    expect(await stored(alert.id)).toEqual({ processed: true, last_error: null, stripe_invoice_id: id });
    const notices = await db.ds.query(`SELECT kind FROM email_notices WHERE stripe_invoice_id = $1 ORDER BY id`, [id]);
    expect(notices.map((n: { kind: string }) => n.kind)).toContain('invoice_paid');
    const metrics = await (await fetch(`${p.baseUrl}/metrics`)).text();
    expect(metrics).toContain('billing_events_applied_total{object="health_alert",outcome="applied"} 1');
  } finally {
    await p.stop();
  }
});

it('without a key: stored and answered 200, counted by stats, repaired by reconcile --alerts', async () => {
  const p = await startProcessor({ ...services() });
  const id = uid('in');
  const alert = alertAbout(id);
  try {
    expect((await post(p.baseUrl, event('invoice.finalized', openInvoice(id), { created: CREATED + 10 }))).status).toBe(200);
    await waitFor('the open invoice', () => findInvoice(db.ds.manager, id).then((r) => r?.status === 'open'));
    // An ordinary thin event is still refused without a key; the alert is not.
    expect(await post(p.baseUrl, alert)).toEqual({ status: 200, body: { received: true } });
    await waitFor('the alert stored', async () => (await stored(alert.id))?.last_error != null);
    expect(await stored(alert.id)).toMatchObject({ processed: false, last_error: expect.stringContaining('billing reconcile --alerts') });
  } finally {
    await p.stop();
  }
  const env = { DATABASE_URL: db.url };
  const stats = await billing(['stats'], env);
  expect(stats.out).toContain(`Stripe failed to generate events for`);
  expect(stats.out).toContain(alert.id);
  expect(stats.out).toContain('billing reconcile --alerts');

  api.invoices.put(paidInvoice(id));
  const dry = await billing(['reconcile', '--alerts', '--dry-run'], { ...env, STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: api.url });
  expect(dry.out).toMatch(/dry run: \d+ health alert\(s\) would be repaired/);
  expect(dry.out).toContain(`${alert.id}  pending`);
  expect((await findInvoice(db.ds.manager, id))?.status).toBe('open');

  const run = await billing(['reconcile', '--alerts'], { ...env, STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: api.url });
  expect(run.code).toBe(0);
  expect(run.out).toContain(`${alert.id}  invoice ${id} reconciled`);
  expect((await findInvoice(db.ds.manager, id))?.status).toBe('paid');
  expect(await stored(alert.id)).toEqual({ processed: true, last_error: null, stripe_invoice_id: id });
  expect((await billing(['stats', '--json'], env)).out).toContain('"needReconcile": 0');

  const again = await billing(['reconcile', '--alerts', '--json'], { ...env, STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: api.url });
  expect(JSON.parse(again.out)).toEqual({ alerts: [] });
});

it('reconcile --alerts without a key, or --until without --since, is a usage error', async () => {
  const noKey = await billing(['reconcile', '--alerts'], { DATABASE_URL: db.url });
  expect(noKey.code).toBe(2);
  expect(noKey.err).toMatch(/STRIPE_SECRET_KEY/);
  const until = await billing(['reconcile', '--alerts', '--until', '2026-11-01'], { DATABASE_URL: db.url, STRIPE_SECRET_KEY: KEY });
  expect(until.code).toBe(2);
  expect(until.err).toMatch(/--until needs --since/);
});
