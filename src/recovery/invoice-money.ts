import { wallClock } from '../clock';
import type Stripe from 'stripe';
import type { InvoiceSnapshot } from '../billing/snapshot';
import type { BackoffOptions } from '../stripe/with-backoff';
import { apiManners, asAccount, listAll, retrieveOne, type WarnLogger } from './stripe-pages';
import { idIn, record } from '../stripe-objects/loose-fields';

/** An object as Stripe's API returned it, with the moment it was asked for. */
export interface FetchedObject {
  /** Stripe's `object` name of what was asked for (`invoice_payment`, `credit_note`, `charge`). */
  object: string;
  body: Record<string, unknown>;
  fetchedAt: number;
}

/** An object another one names that Stripe does not have (a payment's charge, deleted or never there). */
export interface MissingObject {
  object: string;
  id: string;
  reason: string;
}

export interface InvoiceMoney {
  /** Per invoice, in the order given: its payments, then its credit notes; then every charge of those payments, once each. */
  objects: FetchedObject[];
  missing: MissingObject[];
}

export interface MoneyFetchDeps {
  stripe: Stripe;
  logger: WarnLogger;
  backoff?: BackoffOptions;
  apiBase?: string;
  nowSeconds?: () => number;
  /** The connected account to read as (every request sends Stripe-Account); absent or null: the platform. */
  account?: string | null;
}

/**
 * Invoices (or charges) asked about at once. Stripe allows 100 reads a second in live mode and 25
 * in test mode; a few at a time stays well under either while a page of 100 invoices takes
 * seconds, not minutes.
 */
const IN_FLIGHT = 4;

/** Invoices that can have money behind them: a draft has neither payments nor credit notes yet. */
export const finalizedInvoiceIds = (snapshots: readonly InvoiceSnapshot[]): string[] =>
  snapshots.filter((s) => s.fields !== null && s.fields.status !== 'draft').map((s) => s.stripeInvoiceId);


/** What paid an invoice payment: a PaymentIntent (its charges are listed) or a charge of its own; a payment record has neither. */
export function paymentSource(payment: Record<string, unknown>): { paymentIntent: string } | { charge: string } | null {
  const paid = record(payment['payment']);
  if (!paid) return null;
  const pi = idIn(paid['payment_intent']);
  if (pi) return { paymentIntent: pi };
  const charge = idIn(paid['charge']);
  return charge ? { charge } : null;
}

/**
 * Runs `work` over `items`, a few at a time, in order of start. The first failure stops new work;
 * what is running finishes (its requests are not abandoned half way), then the failure is thrown.
 */
async function inTurns<T, U>(items: readonly T[], work: (item: T) => Promise<U>): Promise<U[]> {
  const out: U[] = new Array(items.length);
  let next = 0;
  const failures: unknown[] = [];
  const worker = async () => {
    while (failures.length === 0 && next < items.length) {
      const i = next++;
      try {
        out[i] = await work(items[i]!);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
  return out;
}

/**
 * The money behind some invoices, as Stripe holds it now: each invoice's payments
 * (GET /v1/invoice_payments?invoice=) and credit notes (GET /v1/credit_notes?invoice=), then the
 * charges those payments point to (GET /v1/charges?payment_intent=, or GET /v1/charges/:id for a
 * payment made by a charge alone), each with its refunds expanded; a charge with more refunds than
 * Stripe embeds (10) has them all listed (GET /v1/refunds?charge=). Every call backs off as the
 * invoice list does; one that still fails throws StripeApiError.
 */
export async function fetchInvoiceMoney(deps: MoneyFetchDeps, invoiceIds: readonly string[]): Promise<InvoiceMoney> {
  const manners = apiManners(deps, deps.nowSeconds ?? wallClock);
  const pageOptions = (path: string) => ({ path, ...manners });
  const options = asAccount(deps.account);
  const asFetched = (object: string) => (o: { data: { id: string }; fetchedAt: number }): FetchedObject => ({ object, body: o.data as unknown as Record<string, unknown>, fetchedAt: o.fetchedAt });

  const perInvoice = await inTurns(invoiceIds, async (invoice) => {
    const payments = await listAll((p) => deps.stripe.invoicePayments.list({ ...p, invoice }, options), pageOptions('/v1/invoice_payments'));
    const creditNotes = await listAll((p) => deps.stripe.creditNotes.list({ ...p, invoice }, options), pageOptions('/v1/credit_notes'));
    return [...payments.map(asFetched('invoice_payment')), ...creditNotes.map(asFetched('credit_note'))];
  });
  const objects = perInvoice.flat();

  // One PaymentIntent may pay several invoices: its charges are asked for once.
  const sources = new Map<string, { paymentIntent: string } | { charge: string }>();
  for (const o of objects) {
    if (o.object !== 'invoice_payment') continue;
    const source = paymentSource(o.body);
    if (source) sources.set('paymentIntent' in source ? `pi:${source.paymentIntent}` : `ch:${source.charge}`, source);
  }
  const missing: MissingObject[] = [];
  // Stripe embeds at most 10 of a charge's refunds; a charge with more is given all of them, listed.
  const withAllRefunds = async (charge: FetchedObject): Promise<FetchedObject> => {
    const embedded = record(charge.body['refunds']);
    if (embedded?.['has_more'] !== true) return charge;
    const id = String(charge.body['id']);
    const refunds = await listAll((p) => deps.stripe.refunds.list({ ...p, charge: id }, options), pageOptions('/v1/refunds'));
    // Dated as the charge: the refunds are at least as new as that, so they never pass for newer than they are.
    return { ...charge, body: { ...charge.body, refunds: { ...embedded, data: refunds.map((r) => r.data), has_more: false } } };
  };
  const charges = await inTurns([...sources.values()], async (source): Promise<FetchedObject[]> => {
    if ('paymentIntent' in source) {
      const listed = await listAll((p) => deps.stripe.charges.list({ ...p, payment_intent: source.paymentIntent, expand: ['data.refunds'] }, options), pageOptions('/v1/charges'));
      const out: FetchedObject[] = [];
      for (const c of listed) out.push(await withAllRefunds(asFetched('charge')(c)));
      return out;
    }
    const one = await retrieveOne(() => deps.stripe.charges.retrieve(source.charge, { expand: ['refunds'] }, options), pageOptions(`/v1/charges/${source.charge}`));
    if (one.data === null) {
      missing.push({ object: 'charge', id: source.charge, reason: `an invoice payment names charge ${source.charge}, which Stripe does not have` });
      return [];
    }
    return [await withAllRefunds(asFetched('charge')({ data: one.data, fetchedAt: one.fetchedAt }))];
  });
  const seen = new Set<string>();
  for (const c of charges.flat()) {
    const id = String(c.body['id']);
    if (seen.has(id)) continue;
    seen.add(id);
    objects.push(c);
  }
  return { objects, missing };
}
