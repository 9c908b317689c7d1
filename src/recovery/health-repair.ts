import type Stripe from 'stripe';
import { wallClock } from '../clock';
import { pendingHealthAlerts, settleHealthAlert } from '../db/event-log';
import { errorText } from '../pipeline/types';
import { HEALTH_ALERT_TYPE, readHealthAlert, type HealthAlert } from '../stripe-objects/health-alert';
import { OBJECT_KINDS } from '../stripe-objects/registry';
import { applyListed, readFetched } from './listed-objects';
import { reconcileInvoices, type NamedInvoiceReport, type ReconcileDeps } from './reconcile';
import { apiManners, asAccount, retrieveOne, type PageOptions } from './stripe-pages';
import { idIn, record } from '../stripe-objects/loose-fields';

/** What repairing one alert did. */
export type HealthRepair =
  /** The invoice behind the object, reconciled with its payments, charges and credit notes. */
  | { action: 'reconciled'; invoice: string; report: NamedInvoiceReport }
  /** An object of no invoice (a one-off charge, a customer), read again and merged alone. */
  | { action: 'refetched'; object: string; id: string }
  /** Nothing this processor keeps: the alert names no object, or one no invoice or table holds. */
  | { action: 'nothing_kept'; reason: string };

export interface HealthRepairResult {
  alert: HealthAlert;
  /** The v2 event as Stripe's API returned it; null when Stripe has no such event. */
  event: Record<string, unknown> | null;
  repair: HealthRepair;
}


type Api = PageOptions & { stripe: Stripe; options: Stripe.RequestOptions | undefined };

async function fetchOne(api: Api, path: string, call: () => Promise<unknown>): Promise<Record<string, unknown> | null> {
  return record((await retrieveOne(call, { ...api, path })).data);
}

/** The invoice a PaymentIntent paid, through the invoice payment that names it; null for a payment of no invoice. */
async function invoiceOfPaymentIntent(api: Api, paymentIntent: string): Promise<string | null> {
  const page = await retrieveOne(() => api.stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: paymentIntent }, limit: 1 }, api.options), {
    ...api,
    path: '/v1/invoice_payments',
  });
  return idIn(page.data?.data[0]?.invoice);
}

async function invoiceOfCharge(api: Api, charge: Record<string, unknown>): Promise<string | null> {
  // Older API versions name the invoice on the charge; since 2025-03-31 only its payment does.
  const invoice = idIn(charge['invoice']);
  if (invoice) return invoice;
  const pi = idIn(charge['payment_intent']);
  return pi ? invoiceOfPaymentIntent(api, pi) : null;
}

/** The object the alert names, read as Stripe has it now, and the invoice it belongs to (null: none). */
async function locate(api: Api, type: string, id: string): Promise<{ object: Record<string, unknown> | null; invoice: string | null }> {
  const s = api.stripe;
  switch (type) {
    case 'invoice':
      return { object: null, invoice: id };
    case 'invoice_payment': {
      const object = await fetchOne(api, `/v1/invoice_payments/${id}`, () => s.invoicePayments.retrieve(id, {}, api.options));
      return { object, invoice: idIn(object?.['invoice']) };
    }
    case 'credit_note': {
      const object = await fetchOne(api, `/v1/credit_notes/${id}`, () => s.creditNotes.retrieve(id, {}, api.options));
      return { object, invoice: idIn(object?.['invoice']) };
    }
    case 'charge': {
      const object = await fetchOne(api, `/v1/charges/${id}`, () => s.charges.retrieve(id, {}, api.options));
      return { object, invoice: object ? await invoiceOfCharge(api, object) : null };
    }
    case 'refund': {
      const object = await fetchOne(api, `/v1/refunds/${id}`, () => s.refunds.retrieve(id, {}, api.options));
      const pi = idIn(object?.['payment_intent']);
      const chargeId = idIn(object?.['charge']);
      if (pi) return { object, invoice: await invoiceOfPaymentIntent(api, pi) };
      const charge = chargeId ? await fetchOne(api, `/v1/charges/${chargeId}`, () => s.charges.retrieve(chargeId, {}, api.options)) : null;
      return { object, invoice: charge ? await invoiceOfCharge(api, charge) : null };
    }
    case 'payment_intent':
      return { object: null, invoice: await invoiceOfPaymentIntent(api, id) };
    case 'customer': {
      const object = await fetchOne(api, `/v1/customers/${id}`, () => s.customers.retrieve(id, {}, api.options));
      return { object, invoice: null };
    }
    default:
      return { object: null, invoice: null };
  }
}

const KEPT = new Set(OBJECT_KINDS.map((k) => k.object));

/**
 * Repairs what Stripe failed to tell: reads the alert from the v2 Events API, then the object it
 * names, and reconciles the invoice that object belongs to (with all its money, as `reconcile`
 * does), through the same one path as every event. An object of no invoice that a table keeps is
 * read again and merged alone. Stripe's errors go up as StripeApiError, retryable or not.
 */
export async function repairHealthAlert(deps: ReconcileDeps, eventId: string, account: string | null): Promise<HealthRepairResult> {
  const clock = deps.nowSeconds ?? wallClock;
  const api: Api = {
    stripe: deps.stripe,
    // v1 objects are read as the account (Stripe-Account); the v2 event in its context (Stripe-Context).
    options: asAccount(account),
    path: '',
    ...apiManners(deps, clock),
  };
  const context = account ? { stripeContext: account } : undefined;
  const event = await fetchOne(api, `/v2/core/events/${eventId}`, () => deps.stripe.v2.core.events.retrieve(eventId, {}, context));
  const alert = readHealthAlert(event);
  if (!event) return { alert, event, repair: { action: 'nothing_kept', reason: `Stripe has no event ${eventId}` } };
  if (!alert.related) return { alert, event, repair: { action: 'nothing_kept', reason: 'the alert names no object' } };
  const { type, id } = alert.related;
  const found = await locate(api, type, id);
  if (found.invoice) {
    const [report] = await reconcileInvoices(deps, [found.invoice], account);
    return { alert, event, repair: { action: 'reconciled', invoice: found.invoice, report: report! } };
  }
  if (found.object && KEPT.has(type)) {
    const fetchedAt = clock();
    const { entries } = readFetched([{ object: type, body: found.object, fetchedAt }], 'reconcile', account);
    await applyListed(deps.ds, entries, {
      now: fetchedAt,
      startedAt: fetchedAt,
      effects: deps.effects ? { notices: deps.effects } : {},
      stepOf: (k) => k.reduceListed,
      dryRun: false,
    });
    return { alert, event, repair: { action: 'refetched', object: type, id } };
  }
  const why = !KEPT.has(type) && type !== 'payment_intent'
    ? `a ${type} is not an object this processor keeps`
    : found.object || type === 'payment_intent' ? `${type} ${id} belongs to no invoice` : `Stripe has no ${type} ${id}`;
  return { alert, event, repair: { action: 'nothing_kept', reason: why } };
}

/** The invoice a repair reached, for the event log's `stripe_invoice_id`. */
export const invoiceOfRepair = (r: HealthRepair): string | null => (r.action === 'reconciled' ? r.invoice : null);

/**
 * Repairs one stored alert and records the outcome on its event: processed, with the alert's
 * details and what was done, or its error (the alert stays pending; the error goes up).
 */
export async function repairAndRecord(deps: ReconcileDeps, eventId: string, account: string | null): Promise<HealthRepairResult> {
  try {
    const result = await repairHealthAlert(deps, eventId, account);
    await settleHealthAlert(deps.ds.manager, eventId, { invoice: invoiceOfRepair(result.repair), alert: result.event, repair: result.repair });
    return result;
  } catch (err) {
    await settleHealthAlert(deps.ds.manager, eventId, { error: errorText(err) }).catch(() => undefined);
    throw err;
  }
}

/** One stored alert, as `reconcile --alerts` reports it. */
export interface AlertReport {
  id: string;
  action: HealthRepair['action'] | 'pending' | 'failed';
  invoice?: string;
  reason?: string;
}

function reportOf(id: string, r: HealthRepair): AlertReport {
  if (r.action === 'reconciled') return { id, action: r.action, invoice: r.invoice, ...(r.report.action === 'invalid' ? { reason: r.report.reason } : {}) };
  if (r.action === 'refetched') return { id, action: r.action, reason: `${r.object} ${r.id} read again (it belongs to no invoice)` };
  return { id, action: r.action, reason: r.reason };
}

/**
 * Every stored alert not repaired yet (received without STRIPE_SECRET_KEY, or whose repair kept
 * failing), oldest first, each repaired and recorded; a dry run lists them. One that fails is
 * reported and stays pending; the others go on.
 */
export async function repairPendingAlerts(deps: ReconcileDeps, o: { dryRun: boolean }): Promise<AlertReport[]> {
  const pending = await pendingHealthAlerts(deps.ds.manager, HEALTH_ALERT_TYPE);
  if (o.dryRun) return pending.map((p) => ({ id: p.id, action: 'pending' }));
  const reports: AlertReport[] = [];
  for (const p of pending) {
    try {
      reports.push(reportOf(p.id, (await repairAndRecord(deps, p.id, p.account)).repair));
    } catch (err) {
      reports.push({ id: p.id, action: 'failed', reason: errorText(err) });
    }
  }
  return reports;
}
