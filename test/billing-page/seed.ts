/**
 * A customer's invoices in every state the page knows, built from Stripe's fixtures and applied
 * through the real pipeline (the events a platform's endpoint would receive).
 */
import type { DataSource } from 'typeorm';
import { applyEvent } from '../support/apply-event';
import { chargeEvent, paymentPaid } from '../finance/money-events';
import { event, invoice, ofAccount, uid } from '../support/stripe-events';

type Json = Record<string, unknown>;

export type InvoiceKind = 'open' | 'overdue' | 'paid' | 'void' | 'uncollectible' | 'draft' | 'deleted';

export interface SeedInvoice {
  kind: InvoiceKind;
  id?: string;
  number?: string;
  amount?: number;
  currency?: string;
  /** Seconds before now that the invoice was created. */
  ageSeconds?: number;
  /** For overdue: days past due. */
  daysOverdue?: number;
}

export interface SeedCustomer {
  customer: string;
  name?: string;
  email?: string;
  account?: string;
}

const DAY = 86_400;
const now = () => Math.floor(Date.now() / 1000);

/** The events of one invoice in its final state, with its payment and charge when paid. */
export function invoiceEvents(c: SeedCustomer, s: SeedInvoice): { id: string; events: Json[] } {
  const id = s.id ?? uid('in');
  const created = now() - (s.ageSeconds ?? 30 * DAY);
  const amount = s.amount ?? 2500;
  const currency = s.currency ?? 'usd';
  const status = s.kind === 'overdue' ? 'open' : s.kind === 'deleted' ? 'draft' : s.kind;
  const finalized = s.kind === 'draft' || s.kind === 'deleted' ? null : created + 10;
  const dueDate = s.kind === 'overdue' ? now() - (s.daysOverdue ?? 5) * DAY : created + 45 * DAY;
  const paid = s.kind === 'paid';
  const object = invoice({
    id,
    customer: c.customer,
    customer_name: c.name ?? null,
    customer_email: c.email ?? null,
    number: finalized === null ? null : (s.number ?? `INV-${id.slice(-6).toUpperCase()}`),
    status,
    amount_due: amount,
    total: amount,
    amount_paid: paid ? amount : 0,
    amount_remaining: paid || s.kind === 'void' ? 0 : amount,
    currency,
    collection_method: 'send_invoice',
    due_date: dueDate,
    created,
    hosted_invoice_url: finalized === null ? null : `https://invoice.stripe.com/i/acct_test/${id}`,
    invoice_pdf: finalized === null ? null : `https://pay.stripe.com/invoice/acct_test/${id}/pdf`,
    metadata: {},
    status_transitions: {
      finalized_at: finalized,
      paid_at: paid ? created + 60 : null,
      voided_at: s.kind === 'void' ? created + 60 : null,
      marked_uncollectible_at: s.kind === 'uncollectible' ? created + 60 : null,
    },
  });
  const type = {
    open: 'invoice.finalized',
    overdue: 'invoice.finalized',
    paid: 'invoice.paid',
    void: 'invoice.voided',
    uncollectible: 'invoice.marked_uncollectible',
    draft: 'invoice.created',
    deleted: 'invoice.deleted',
  }[s.kind];
  const events: Json[] = [event(type, object, { created: created + 60 })];
  if (paid) {
    const pi = uid('pi');
    events.push(paymentPaid(id, { id: uid('inpay'), paymentIntent: pi, amount, created: created + 50, currency }));
    events.push(chargeEvent({ id: uid('ch'), paymentIntent: pi, amount, created: created + 50, currency }));
  }
  return { id, events: c.account ? events.map((e) => ofAccount(e, c.account!)) : events };
}

export async function seedInvoices(ds: DataSource, c: SeedCustomer, invoices: readonly SeedInvoice[]): Promise<string[]> {
  const ids: string[] = [];
  for (const s of invoices) {
    const { id, events } = invoiceEvents(c, s);
    for (const e of events) await applyEvent(ds, JSON.stringify(e));
    ids.push(id);
  }
  return ids;
}

/** One wallet entry, inserted as the wallet's effects would write it (the ledger refuses changes, not inserts). */
export async function walletEntry(ds: DataSource, o: { customer: string; account?: string; currency: string; amount: number }): Promise<void> {
  await ds.query(
    `INSERT INTO wallet_ledger (stripe_customer_id, stripe_account_id, currency, entry_type, amount_cents, debt_settled_cents,
                                stripe_invoice_id, reason, source_event_id, natural_key, livemode, occurred_at)
     VALUES ($1, $2, $3, 'topup_credit', $4, 0, $5, 'topup_failed', $6, $7, false, now())`,
    [o.customer, o.account ?? null, o.currency, o.amount, uid('in'), uid('evt'), `topup_credit:${uid('in')}`],
  );
}
