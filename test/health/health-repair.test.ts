/**
 * Stripe's health alerts for events it failed to generate, repaired against real services:
 * PostgreSQL, the Stripe API test server through the real SDK (its v2 Events API too), the
 * consumer's own notice effects. The object the alert names is read again and its invoice
 * reconciled through the pipeline's one path; alerts that wait for a key are repaired later.
 */
import type Stripe from 'stripe';
import { noticeEffects } from '../../src/effects/notice-effects';
import { findCharge } from '../../src/db/charges';
import { findCustomerContact } from '../../src/db/billing-contacts';
import { findInvoice } from '../../src/db/invoices';
import { applyHealthAlert } from '../../src/pipeline/health-alerts';
import { databaseStats } from '../../src/read-models/stats';
import { repairHealthAlert, repairPendingAlerts, repairAndRecord } from '../../src/recovery/health-repair';
import type { ReconcileDeps } from '../../src/recovery/reconcile';
import { HEALTH_ALERT_TYPE } from '../../src/stripe-objects/health-alert';
import { identifyEvent } from '../../src/stripe-objects/identify-event';
import { createStripeClient } from '../../src/stripe/api-client';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { chargeObject, invoicePaymentObject } from '../support/payment-events';
import { customerObject } from '../support/stripe-api/objects';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { event, uid } from '../support/stripe-events';
import { openInvoiceAt, paidInvoiceAt } from '../support/listed-invoices';

const KEY = 'sk_test_healthalerts0123456789ab';
const NOW = Math.floor(Date.now() / 1000);
const CREATED = NOW - 7200;
const effects = noticeEffects(ALL_NOTICES);
const quiet = { warn: () => undefined };

let db: TestDatabase;
let api: StripeApi;
let stripe: Stripe;

beforeAll(async () => {
  [db, api] = await Promise.all([createTestDatabase(), startStripeApi()]);
  stripe = createStripeClient({ secretKey: KEY, apiBase: api.url }, 'health alerts');
});
afterAll(async () => {
  await Promise.all([db?.drop(), api?.stop()]);
});
beforeEach(() => api.reset());

const deps = (): ReconcileDeps => ({ stripe, ds: db.ds, effects, logger: quiet, backoff: { attempts: 2, baseMs: 1, maxMs: 2 } });

const openInvoice = (id: string) => openInvoiceAt(id, CREATED);
const paid = (id: string) => paidInvoiceAt(id, CREATED);

/** The thin notification Stripe posts, and the v2 event the API returns for it. */
function alertFor(related: { id: string; type: string } | null, o: { context?: string; eventType?: string } = {}) {
  const id = uid('evt_test');
  const notification = { id, object: 'v2.core.event', type: HEALTH_ALERT_TYPE, created: new Date().toISOString(), livemode: false, ...(o.context ? { context: o.context } : {}) };
  const full = {
    ...notification,
    data: {
      alert_id: uid('halert'),
      grouping_key: uid('_grouping'),
      impact: { event_type: o.eventType ?? 'invoice.paid', ...(related ? { related_object: { ...related, url: `/v1/${related.type}s/${related.id}` } } : {}) },
      resolved_at: new Date().toISOString(),
      summary: 'We have failed to create a notification for your Stripe account.',
    },
  };
  api.v2Events.put(full);
  return { id, notification, full };
}

const storedAlert = async (id: string) =>
  (await db.ds.query(`SELECT processed_at IS NOT NULL AS processed, last_error, stripe_invoice_id, attempts, payload FROM stripe_events WHERE id = $1`, [id]))[0] as
    | { processed: boolean; last_error: string | null; stripe_invoice_id: string | null; attempts: number; payload: Record<string, unknown> }
    | undefined;

const receive = (notification: Record<string, unknown>, repair: boolean) => {
  const who = identifyEvent(notification) as ReturnType<typeof identifyEvent> & { id: string; type: string };
  return applyHealthAlert(db.ds, who, JSON.stringify(notification), false, repair ? { repairAlert: (ds, id, account) => repairAndRecord({ ...deps(), ds }, id, account) } : {});
};

describe('repairHealthAlert', () => {
  it('an invoice whose invoice.paid was never generated: the row becomes paid and the paid notice is queued', async () => {
    const id = uid('in');
    await applyEvent(db.ds, JSON.stringify(event('invoice.finalized', openInvoice(id), { created: CREATED + 10 })), { effects: { notices: effects } });
    api.invoices.put(paid(id));
    const alert = alertFor({ id, type: 'invoice' });

    const result = await repairHealthAlert(deps(), alert.id, null);

    expect(result.repair).toEqual({ action: 'reconciled', invoice: id, report: expect.objectContaining({ invoice: id, action: 'repaired' }) });
    expect(result.alert.related).toEqual({ id, type: 'invoice' });
    expect((await findInvoice(db.ds.manager, id))?.status).toBe('paid');
    const notices = await db.ds.query(`SELECT kind, status FROM email_notices WHERE stripe_invoice_id = $1 ORDER BY id`, [id]);
    expect(notices).toContainEqual({ kind: 'invoice_paid', status: 'pending' });
  });

  it('a charge of the current API (no invoice on it): its invoice is found through its payment and reconciled with the charge', async () => {
    const id = uid('in');
    const pi = uid('pi');
    const charge = chargeObject({ paymentIntent: pi, amount: 2500 });
    api.invoices.put(paid(id));
    api.invoicePayments.put(invoicePaymentObject(id, { paymentIntent: pi, amount: 2500 }));
    api.charges.put(charge);
    const alert = alertFor({ id: charge['id'] as string, type: 'charge' }, { eventType: 'charge.succeeded' });

    const result = await repairHealthAlert(deps(), alert.id, null);

    expect(result.repair).toMatchObject({ action: 'reconciled', invoice: id });
    expect((await findInvoice(db.ds.manager, id))?.status).toBe('paid');
    expect((await findCharge(db.ds.manager, charge['id'] as string))?.stripeInvoiceId).toBe(id);
  });

  it('a payment intent of no invoice, an object no table keeps, an alert naming nothing, an event Stripe does not have: nothing to repair, each said', async () => {
    expect((await repairHealthAlert(deps(), alertFor({ id: uid('pi'), type: 'payment_intent' }).id, null)).repair).toEqual({ action: 'nothing_kept', reason: expect.stringMatching(/^payment_intent pi_\w+ belongs to no invoice$/) });
    expect((await repairHealthAlert(deps(), alertFor({ id: uid('sub'), type: 'subscription' }).id, null)).repair).toEqual({ action: 'nothing_kept', reason: 'a subscription is not an object this processor keeps' });
    expect((await repairHealthAlert(deps(), alertFor(null).id, null)).repair).toEqual({ action: 'nothing_kept', reason: 'the alert names no object' });
    expect((await repairHealthAlert(deps(), 'evt_test_unknown', null)).repair).toEqual({ action: 'nothing_kept', reason: 'Stripe has no event evt_test_unknown' });
    const gone = uid('ch');
    expect((await repairHealthAlert(deps(), alertFor({ id: gone, type: 'charge' }).id, null)).repair).toEqual({ action: 'nothing_kept', reason: `Stripe has no charge ${gone}` });
  });

  it('a customer: read again and merged alone, so the contact address is current', async () => {
    const customer = customerObject({ email: 'billing@alert.example', name: 'Alert Ltd' });
    api.customers.put(customer);
    const result = await repairHealthAlert(deps(), alertFor({ id: customer['id'] as string, type: 'customer' }).id, null);
    expect(result.repair).toEqual({ action: 'refetched', object: 'customer', id: customer['id'] });
    expect(await findCustomerContact(db.ds.manager, customer['id'] as string)).toMatchObject({ primaryEmail: 'billing@alert.example', name: 'Alert Ltd' });
  });

  it("a connected account's alert: read in its context, the invoice read as the account, the row stamped with it", async () => {
    const id = uid('in');
    api.invoices.putAs('acct_1Alerts', paid(id));
    const alert = alertFor({ id, type: 'invoice' }, { context: 'acct_1Alerts' });
    const result = await repairHealthAlert(deps(), alert.id, 'acct_1Alerts');
    expect(result.repair).toMatchObject({ action: 'reconciled', invoice: id });
    expect(api.requests.find((r) => r.path === `/v2/core/events/${alert.id}`)?.context).toBe('acct_1Alerts');
    expect(api.requests.filter((r) => r.path.startsWith('/v1/')).map((r) => r.account)).toEqual(expect.arrayContaining(['acct_1Alerts']));
    expect(api.requests.filter((r) => r.path.startsWith('/v1/') && r.account !== 'acct_1Alerts')).toEqual([]);
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'paid', stripeAccountId: 'acct_1Alerts' });
  });
});

describe('alerts received without a key, repaired by reconcile --alerts', () => {
  it('is stored unprocessed with what to do, counted by stats, then repaired once and recorded', async () => {
    const id = uid('in');
    await applyEvent(db.ds, JSON.stringify(event('invoice.finalized', openInvoice(id), { created: CREATED + 10 })), { effects: { notices: effects } });
    api.invoices.put(paid(id));
    const alert = alertFor({ id, type: 'invoice' });

    expect(await receive(alert.notification, false)).toEqual({ ok: true, result: expect.objectContaining({ outcome: 'unchanged', eventId: alert.id }) });
    expect(await storedAlert(alert.id)).toMatchObject({ processed: false, last_error: expect.stringContaining('billing reconcile --alerts'), attempts: 1 });
    const before = await databaseStats(db.ds);
    expect(before.healthAlerts.ids).toContain(alert.id);

    // Stripe posting it again counts the receive; still waiting.
    await receive(alert.notification, false);
    expect((await storedAlert(alert.id))?.attempts).toBe(2);

    const dry = await repairPendingAlerts(deps(), { dryRun: true });
    expect(dry).toContainEqual({ id: alert.id, action: 'pending' });
    expect((await findInvoice(db.ds.manager, id))?.status).toBe('open');

    const reports = await repairPendingAlerts(deps(), { dryRun: false });
    expect(reports).toContainEqual({ id: alert.id, action: 'reconciled', invoice: id });
    expect((await findInvoice(db.ds.manager, id))?.status).toBe('paid');
    const stored = await storedAlert(alert.id);
    expect(stored).toMatchObject({ processed: true, last_error: null, stripe_invoice_id: id });
    expect(stored?.payload).toMatchObject({ id: alert.id, alert: { data: { impact: { related_object: { id } } } }, repair: { action: 'reconciled', invoice: id } });
    expect((await databaseStats(db.ds)).healthAlerts.ids).not.toContain(alert.id);

    // Once repaired, a late copy is a duplicate and repairs nothing again.
    api.requests.length = 0;
    expect(await receive(alert.notification, true)).toEqual({ ok: true, result: expect.objectContaining({ outcome: 'duplicate' }) });
    expect(api.requests).toEqual([]);
  });

  it('a repair Stripe refuses is reported failed, stays pending with the reason, and the others still go', async () => {
    const good = uid('in');
    api.invoices.put(paid(good));
    const refused = alertFor({ id: uid('in'), type: 'invoice' });
    await receive(refused.notification, false);
    const fine = alertFor({ id: good, type: 'invoice' });
    await receive(fine.notification, false);
    const other = createStripeClient({ secretKey: 'sk_test_revokedalerts0123456789', apiBase: api.url }, 'health alerts');
    api.revokeKey('sk_test_revokedalerts0123456789');

    const failed = await repairPendingAlerts({ ...deps(), stripe: other }, { dryRun: false });
    expect(failed).toContainEqual({ id: refused.id, action: 'failed', reason: expect.stringMatching(/401/) });
    expect(await storedAlert(refused.id)).toMatchObject({ processed: false, last_error: expect.stringMatching(/401/) });
    expect(JSON.stringify(failed)).not.toContain('sk_test_revokedalerts0123456789');

    const reports = await repairPendingAlerts(deps(), { dryRun: false });
    expect(reports).toContainEqual({ id: fine.id, action: 'reconciled', invoice: good });
    expect(reports).toContainEqual({ id: refused.id, action: 'reconciled', invoice: expect.any(String), reason: 'Stripe has no such invoice' });
  });
});
