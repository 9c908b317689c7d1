/**
 * The events of prepaid-wallet invoices (metadata.reason) as Stripe sends them, by payment path:
 * a card payment (the invoice, its invoice payment and its charge), a payment out of band, and an
 * invoice marked uncollectible and paid later. Built on the shared builders of Stripe's fixtures.
 */
import { chargeObject, invoicePaymentObject, paymentEvent, refundObject } from './payment-events';
import { event, invoice, uid } from './stripe-events';

type Json = Record<string, unknown>;

export type PaymentPath = 'card' | 'out_of_band' | 'uncollectible_then_paid';

export interface WalletInvoice {
  id: string;
  customer: string;
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  /** When the invoice was created; every event follows it. */
  start: number;
  account?: string;
}

/** A new wallet invoice's facts, with fresh ids. */
export function walletInvoice(metadata: Record<string, string>, o: Partial<Omit<WalletInvoice, 'metadata'>> = {}): WalletInvoice {
  return { id: o.id ?? uid('in'), customer: o.customer ?? uid('cus'), amount: o.amount ?? 5000, currency: o.currency ?? 'usd', metadata, start: o.start ?? 1_790_000_000, ...(o.account ? { account: o.account } : {}) };
}

const withAccount = (e: Json, account: string | undefined): Json => (account === undefined ? e : { ...e, account });

function invoiceObject(w: WalletInvoice, state: { status: string; paid: number; remaining: number; transitions: Json; outOfBand?: boolean }): Json {
  return invoice({
    id: w.id,
    customer: w.customer,
    status: state.status,
    number: `INV-${w.id.slice(-6)}`,
    amount_due: w.amount,
    total: w.amount,
    amount_paid: state.paid,
    amount_remaining: state.remaining,
    currency: w.currency,
    collection_method: 'charge_automatically',
    due_date: null,
    hosted_invoice_url: `https://invoice.stripe.com/i/${w.id}`,
    invoice_pdf: `https://pay.stripe.com/invoice/${w.id}/pdf`,
    metadata: w.metadata,
    created: w.start,
    ...(state.outOfBand ? { paid_out_of_band: true } : {}),
    status_transitions: { finalized_at: w.start + 1, paid_at: null, voided_at: null, marked_uncollectible_at: null, ...state.transitions },
  });
}

/** invoice.finalized: open, nothing paid. */
export const finalized = (w: WalletInvoice): Json =>
  withAccount(event('invoice.finalized', invoiceObject(w, { status: 'open', paid: 0, remaining: w.amount, transitions: {} }), { created: w.start + 1 }), w.account);

/** invoice.voided: never paid. */
export const voided = (w: WalletInvoice): Json =>
  withAccount(event('invoice.voided', invoiceObject(w, { status: 'void', paid: 0, remaining: 0, transitions: { voided_at: w.start + 9 } }), { created: w.start + 9 }), w.account);

/** The charge a card payment of the invoice makes, and its payment intent. */
export const cardPayment = (w: WalletInvoice) => ({ charge: `ch_${w.id.slice(3)}`, paymentIntent: `pi_${w.id.slice(3)}` });

/**
 * Every event a payment path sends, oldest first. Out of band: Stripe's older API versions say
 * `paid_out_of_band` and leave amount_paid at 0; the amount is what was due and no longer is.
 */
export function paidEvents(w: WalletInvoice, path: PaymentPath): Json[] {
  const paidAt = w.start + 5;
  const { charge, paymentIntent } = cardPayment(w);
  if (path === 'out_of_band') {
    const paid = invoiceObject(w, { status: 'paid', paid: 0, remaining: 0, transitions: { paid_at: paidAt }, outOfBand: true });
    return [finalized(w), withAccount(event('invoice.paid', paid, { created: paidAt }), w.account)];
  }
  const uncollectibleAt = w.start + 3;
  const before = path === 'uncollectible_then_paid'
    ? [withAccount(event('invoice.marked_uncollectible', invoiceObject(w, { status: 'uncollectible', paid: 0, remaining: w.amount, transitions: { marked_uncollectible_at: uncollectibleAt } }), { created: uncollectibleAt }), w.account)]
    : [];
  const transitions = { paid_at: paidAt, ...(path === 'uncollectible_then_paid' ? { marked_uncollectible_at: uncollectibleAt } : {}) };
  const paid = invoiceObject(w, { status: 'paid', paid: w.amount, remaining: 0, transitions });
  const payment = { ...invoicePaymentObject(w.id, { paymentIntent, amount: w.amount, created: paidAt - 1 }), currency: w.currency };
  const chargeSnapshot = { ...chargeObject({ id: charge, paymentIntent, amount: w.amount, created: paidAt - 1 }), currency: w.currency, customer: w.customer };
  return [
    finalized(w),
    ...before,
    withAccount(event('invoice.paid', paid, { created: paidAt }), w.account),
    withAccount(paymentEvent('invoice_payment.paid', payment, { created: paidAt }), w.account),
    withAccount(paymentEvent('charge.succeeded', chargeSnapshot, { created: paidAt }), w.account),
  ];
}

/** A refund of the invoice's card charge, as refund.created (or refund.failed / refund.updated for a later status). */
export function refundOf(w: WalletInvoice, o: { id?: string; amount: number; at: number; status?: string; type?: string }): Json {
  const { charge, paymentIntent } = cardPayment(w);
  const object = { ...refundObject(charge, { id: o.id ?? uid('re'), paymentIntent, amount: o.amount, created: o.at, status: o.status ?? 'succeeded' }), currency: w.currency };
  return withAccount(paymentEvent(o.type ?? 'refund.created', object, { created: o.at }), w.account);
}
