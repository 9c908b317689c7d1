import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Stripe from 'stripe';

/** Stripe's official fixtures (stripe-mock's), and the current invoice event types. */
const FIXTURES = path.resolve(__dirname, '../fixtures/stripe');

export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
}

const baseInvoice = fixture('invoice_fixture.json');

export const uid = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

export interface InvoiceOverrides {
  [field: string]: unknown;
}

/** Stripe's official invoice fixture with the fields a test cares about replaced. */
export function invoice(overrides: InvoiceOverrides = {}): Record<string, unknown> {
  return { ...structuredClone(baseInvoice), ...overrides };
}

export function event(type: string, object: Record<string, unknown>, opts: { id?: string; created?: number } = {}): Record<string, unknown> {
  return {
    id: opts.id ?? uid('evt'),
    object: 'event',
    api_version: '2026-10-28.endive',
    created: opts.created ?? Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

/** The event as a Connect endpoint delivers it: `account` names the connected account it is of. */
export const ofAccount = (e: Record<string, unknown>, account: string): Record<string, unknown> => ({ ...e, account });

export function sign(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp === undefined ? {} : { timestamp }) });
}

export const TEST_SECRET = 'whsec_test_0123456789abcdefghijklmnopqrstuv';

/**
 * A whole invoice lifecycle as Stripe would send it, oldest first: created (draft), finalized
 * (open), a failed payment, then paid, in the same second as the last update, as Stripe often does.
 */
export function paidLifecycle(invoiceId: string, start: number, opts: { customer?: string; amount?: number; dueDate?: number | null } = {}) {
  const amount = opts.amount ?? 1000;
  const common = {
    id: invoiceId,
    customer: opts.customer ?? 'cus_test',
    amount_due: amount,
    total: amount,
    currency: 'usd',
    collection_method: opts.dueDate ? 'send_invoice' : 'charge_automatically',
    due_date: opts.dueDate ?? null,
    metadata: {},
  };
  const draft = invoice({ ...common, status: 'draft', number: null, hosted_invoice_url: null, invoice_pdf: null, amount_paid: 0, amount_remaining: amount, attempt_count: 0, status_transitions: { finalized_at: null, paid_at: null, voided_at: null, marked_uncollectible_at: null } });
  const finalized = { finalized_at: start + 1, paid_at: null, voided_at: null, marked_uncollectible_at: null };
  const open = invoice({ ...common, status: 'open', number: `INV-${invoiceId.slice(-6)}`, hosted_invoice_url: `https://invoice.stripe.com/i/${invoiceId}`, invoice_pdf: `https://pay.stripe.com/invoice/${invoiceId}/pdf`, amount_paid: 0, amount_remaining: amount, attempt_count: 0, status_transitions: finalized });
  const failed = { ...open, attempt_count: 1 };
  const paid = { ...failed, status: 'paid', amount_paid: amount, amount_remaining: 0, status_transitions: { ...finalized, paid_at: start + 3 } };
  return [
    event('invoice.created', draft, { created: start }),
    event('invoice.finalized', open, { created: start + 1 }),
    event('invoice.payment_failed', failed, { created: start + 2 }),
    event('invoice.updated', failed, { created: start + 3 }),
    event('invoice.paid', paid, { created: start + 3 }),
    event('invoice.payment_succeeded', paid, { created: start + 3 }),
  ];
}
