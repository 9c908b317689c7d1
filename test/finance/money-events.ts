/**
 * Events of one invoice and the money behind it (payments, charges, refunds, credit notes), built
 * from Stripe's fixtures by the shared builders, and a way to apply them through the pipeline.
 */
import type { DataSource } from 'typeorm';
import { applyEvent } from '../support/apply-event';
import { creditNote, creditNoteEvent, type CreditNoteOptions } from '../support/credit-note-events';
import { chargeObject, invoicePaymentObject, paymentEvent, refundObject } from '../support/payment-events';
import { event, invoice } from '../support/stripe-events';

type Json = Record<string, unknown>;

export interface InvoiceOptions {
  status?: 'open' | 'paid';
  amountDue?: number;
  /** Before credit notes; by default amountDue. */
  total?: number;
  amountPaid?: number;
  /** What Stripe says is left; by default amountDue - amountPaid. */
  amountRemaining?: number;
  currency?: string;
  customer?: string;
  number?: string;
  created: number;
  /** Unix seconds; null for none. */
  dueDate?: number | null;
}

/** A finalized invoice as Stripe sends it: invoice.finalized when open, invoice.paid when paid. */
export function invoiceEvent(id: string, o: InvoiceOptions): Json {
  const status = o.status ?? 'open';
  const amountDue = o.amountDue ?? 10000;
  const amountPaid = o.amountPaid ?? (status === 'paid' ? amountDue : 0);
  const object = invoice({
    id,
    status,
    customer: o.customer ?? 'cus_money',
    number: o.number ?? `INV-${id.slice(-6)}`,
    amount_due: amountDue,
    total: o.total ?? amountDue,
    amount_paid: amountPaid,
    amount_remaining: o.amountRemaining ?? amountDue - amountPaid,
    currency: o.currency ?? 'usd',
    collection_method: o.dueDate ? 'send_invoice' : 'charge_automatically',
    due_date: o.dueDate ?? null,
    created: o.created,
    hosted_invoice_url: `https://invoice.stripe.com/i/${id}`,
    invoice_pdf: `https://pay.stripe.com/invoice/${id}/pdf`,
    metadata: {},
    status_transitions: { finalized_at: o.created + 1, paid_at: status === 'paid' ? o.created + 5 : null, voided_at: null, marked_uncollectible_at: null },
  });
  return event(status === 'paid' ? 'invoice.paid' : 'invoice.finalized', object, { created: o.created + (status === 'paid' ? 5 : 1) });
}

/** invoice_payment.paid for `amount` of the invoice, paid by the payment intent. */
export function paymentPaid(invoiceId: string, o: { id: string; paymentIntent: string; amount: number; created: number; currency?: string }): Json {
  const object = { ...invoicePaymentObject(invoiceId, { id: o.id, paymentIntent: o.paymentIntent, amount: o.amount, created: o.created }), currency: o.currency ?? 'usd' };
  return paymentEvent('invoice_payment.paid', object, { created: o.created + 1 });
}

/** A charge event of the current API (no invoice field), or of an old one naming its invoice. */
export function chargeEvent(o: {
  id: string;
  paymentIntent: string | null;
  amount: number;
  created: number;
  status?: 'succeeded' | 'failed';
  amountRefunded?: number;
  currency?: string;
  /** Sent by an endpoint pinned to an API version before 2025-03-31, whose charges name their invoice. */
  oldLayoutInvoice?: string;
}): Json {
  const base = chargeObject({
    id: o.id,
    paymentIntent: o.paymentIntent,
    amount: o.amount,
    created: o.created,
    status: o.status ?? 'succeeded',
    amountRefunded: o.amountRefunded ?? 0,
    ...(o.oldLayoutInvoice === undefined ? {} : { layout: 'old' as const, invoice: o.oldLayoutInvoice }),
  });
  const object = { ...base, currency: o.currency ?? 'usd' };
  const type = o.status === 'failed' ? 'charge.failed' : (o.amountRefunded ?? 0) > 0 ? 'charge.refunded' : 'charge.succeeded';
  return paymentEvent(type, object, { created: o.created + (o.amountRefunded ? 100 : 1), ...(o.oldLayoutInvoice === undefined ? {} : { apiVersion: '2020-08-27' }) });
}

export function refundEvent(o: { id: string; charge: string; paymentIntent: string | null; amount: number; created: number; status?: string; currency?: string }): Json {
  const object = { ...refundObject(o.charge, { id: o.id, paymentIntent: o.paymentIntent, amount: o.amount, created: o.created, status: o.status ?? 'succeeded' }), currency: o.currency ?? 'usd' };
  return paymentEvent(o.status === 'failed' ? 'refund.failed' : 'refund.created', object, { created: o.created + 1 });
}

export function creditNoteCreated(o: CreditNoteOptions & { invoice: string; created: number }): Json {
  const cn = creditNote({ customer: 'cus_money', ...o });
  return creditNoteEvent(cn['status'] === 'void' ? 'credit_note.voided' : 'credit_note.created', cn, { created: (o.created as number) + 1 });
}

/** Applies the events one at a time, in the order given, as separate deliveries. */
export async function applyAll(ds: DataSource, events: readonly Json[]): Promise<void> {
  for (const e of events) await applyEvent(ds, JSON.stringify(e));
}
