import { z } from 'zod';
import { readEnvelope, readObject, type EventMeta } from '../billing/event-envelope';
import { cents, currency, optionalReference, optionalText, statusName, stripeId, unixSeconds } from './payment-fields';
import type { Owned } from './object-kind';
import type { LastEvent } from './row-join';

/** A Refund as its row holds it. */
export interface RefundFields {
  stripeRefundId: string;
  stripeChargeId: string | null;
  stripePaymentIntentId: string | null;
  amountCents: number;
  currency: string;
  /** pending, requires_action, succeeded, failed or canceled, as sent; Stripe's type allows null. */
  status: string | null;
  reason: string | null;
  failureReason: string | null;
  /** Stripe's created. */
  createdAt: number;
  /** The event's: a refund object has no livemode. */
  livemode: boolean;
}

export type RefundRow = RefundFields & LastEvent & Owned;

export interface RefundSnapshot extends EventMeta {
  refund: RefundFields;
}

/**
 * The Refund, in the events that carry it (refund.*, charge.refund.updated) and as a charge lists
 * it (`refunds`, API versions before 2022-11-15), where `object` was not always present.
 */
const refundSchema = z.object({
  id: stripeId,
  object: z.literal('refund').optional(),
  charge: optionalReference,
  payment_intent: optionalReference,
  amount: cents,
  currency,
  status: statusName.nullish(),
  reason: optionalText,
  failure_reason: optionalText,
  created: unixSeconds,
});

/** The refund object read with the meta of the event that carried it (its own, or its charge's). */
export function refundFromObject(object: Record<string, unknown>, meta: EventMeta, parent?: { chargeId: string; paymentIntentId: string | null }): RefundSnapshot {
  const r = readObject(refundSchema, object, 'refund', meta.eventType);
  return {
    ...meta,
    refund: {
      stripeRefundId: r.id,
      stripeChargeId: r.charge ?? parent?.chargeId ?? null,
      stripePaymentIntentId: r.payment_intent ?? parent?.paymentIntentId ?? null,
      amountCents: r.amount,
      currency: r.currency,
      status: r.status ?? null,
      reason: r.reason,
      failureReason: r.failure_reason,
      createdAt: r.created,
      livemode: meta.livemode,
    },
  };
}

/** Reads a refund.* or charge.refund.updated event; MalformedEventError saying what is missing or wrong. */
export function readRefund(event: unknown): RefundSnapshot {
  const { meta, object } = readEnvelope(event);
  return refundFromObject(object, meta);
}
