import { z } from 'zod';
import { readEnvelope, readObject, type EventMeta } from '../billing/event-envelope';
import { cents, currency, optionalReference, reference, statusName, stripeId, unixSeconds } from './payment-fields';
import type { Owned } from './object-kind';
import type { LastEvent } from './row-join';

/** An InvoicePayment as its row holds it: the money applied to one invoice by one payment. */
export interface InvoicePaymentFields {
  stripeInvoicePaymentId: string;
  stripeInvoiceId: string;
  stripePaymentIntentId: string | null;
  /** payment.charge; otherwise set by linking to the succeeded charge of its payment intent. */
  stripeChargeId: string | null;
  /** open, paid or canceled, as sent. */
  status: string;
  /** amount_paid: 0 until paid. */
  amountCents: number;
  amountRequestedCents: number;
  currency: string;
  isDefault: boolean;
  paidAt: number | null;
  canceledAt: number | null;
  /** Stripe's created. */
  createdAt: number;
  livemode: boolean;
}

export type InvoicePaymentRow = InvoicePaymentFields & LastEvent & Owned;

export interface InvoicePaymentSnapshot extends EventMeta {
  payment: InvoicePaymentFields;
}

/**
 * The InvoicePayment (API 2025-05-28 and later; it has one layout). `payment.type` says what paid:
 * `payment_intent` or `charge` name it, other types (out-of-band payments, payment records) name
 * neither and are kept without a link.
 */
const invoicePaymentSchema = z.object({
  id: stripeId,
  object: z.literal('invoice_payment'),
  invoice: reference,
  payment: z
    .object({
      type: z.string().max(255).nullish(),
      payment_intent: optionalReference,
      charge: optionalReference,
    })
    .nullish(),
  amount_paid: cents.nullish(),
  amount_requested: cents,
  currency,
  is_default: z.boolean().nullish(),
  status: statusName,
  status_transitions: z.object({ paid_at: unixSeconds.nullish(), canceled_at: unixSeconds.nullish() }).nullish(),
  created: unixSeconds,
  livemode: z.boolean().optional(),
});

/** Reads an invoice_payment.* event; MalformedEventError saying what is missing or wrong. */
export function readInvoicePayment(event: unknown): InvoicePaymentSnapshot {
  const { meta, object } = readEnvelope(event);
  const p = readObject(invoicePaymentSchema, object, 'invoice payment', meta.eventType);
  return {
    ...meta,
    payment: {
      stripeInvoicePaymentId: p.id,
      stripeInvoiceId: p.invoice,
      stripePaymentIntentId: p.payment?.payment_intent ?? null,
      stripeChargeId: p.payment?.charge ?? null,
      status: p.status,
      amountCents: p.amount_paid ?? 0,
      amountRequestedCents: p.amount_requested,
      currency: p.currency,
      isDefault: p.is_default ?? false,
      paidAt: p.status_transitions?.paid_at ?? null,
      canceledAt: p.status_transitions?.canceled_at ?? null,
      createdAt: p.created,
      livemode: p.livemode ?? meta.livemode,
    },
  };
}
