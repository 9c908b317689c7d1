/**
 * The same invoices as Stripe's API would hand them to `billing import` or reconcile, derived from
 * the events seed.ts builds: each invoice as its latest event carries it, with the invoice payments
 * and charges those events carry.
 */
import { chargeObject, invoicePaymentObject } from '../support/payment-events';
import type { StripeApi } from '../support/stripe-api/server';
import { event, uid } from '../support/stripe-events';

type Json = Record<string, unknown>;

export const objectOf = (e: Json): Json => (e['data'] as { object: Json }).object;

/** Puts into the API what the events say: each invoice as last sent, every payment and charge. */
export function putAtStripe(api: StripeApi, events: readonly Json[]): void {
  const latest = new Map<string, { created: number; object: Json }>();
  for (const e of events) {
    const o = objectOf(e);
    const created = e['created'] as number;
    if (o['object'] === 'invoice') {
      const id = o['id'] as string;
      if ((latest.get(id)?.created ?? -Infinity) <= created) latest.set(id, { created, object: o });
    } else if (o['object'] === 'invoice_payment') api.invoicePayments.put(o);
    else if (o['object'] === 'charge') api.charges.put(o);
  }
  for (const { object } of latest.values()) api.invoices.put(object);
}

/** The invoice.finalized a paid invoice was sent before its invoice.paid: open, nothing paid, at its finalization. */
export function finalizedEventOf(paid: Json): Json {
  const inv = structuredClone(objectOf(paid));
  const transitions = inv['status_transitions'] as Record<string, number | null>;
  const finalizedAt = transitions['finalized_at']!;
  return event(
    'invoice.finalized',
    { ...inv, status: 'open', amount_paid: 0, amount_remaining: inv['amount_due'], status_transitions: { ...transitions, paid_at: null } },
    { created: finalizedAt },
  );
}

/**
 * An open invoice as Stripe holds it once paid, `paidAt`, with the invoice payment and the charge
 * (its receipt) that paid it.
 */
export function paidAtStripe(open: Json, paidAt: number): { invoice: Json; payment: Json; charge: Json } {
  const inv = structuredClone(open);
  const amount = inv['amount_due'] as number;
  const currency = inv['currency'] as string;
  const paymentIntent = uid('pi');
  const transitions = inv['status_transitions'] as Record<string, number | null>;
  return {
    invoice: { ...inv, status: 'paid', amount_paid: amount, amount_remaining: 0, status_transitions: { ...transitions, paid_at: paidAt } },
    payment: { ...invoicePaymentObject(inv['id'] as string, { paymentIntent, amount, created: paidAt - 5 }), currency },
    charge: { ...chargeObject({ paymentIntent, amount, created: paidAt - 5 }), currency },
  };
}
