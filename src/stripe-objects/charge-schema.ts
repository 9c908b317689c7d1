import { z } from 'zod';
import { readEnvelope, readObject, type EventMeta } from '../billing/event-envelope';
import { MalformedEventError } from '../errors';
import { cents, currency, optionalReference, optionalText, statusName, stripeId, unixSeconds } from './payment-fields';
import { refundFromObject, type RefundSnapshot } from './refund-schema';
import type { Owned } from './object-kind';
import type { LastEvent } from './row-join';

/** A Charge as its row holds it. */
export interface ChargeFields {
  stripeChargeId: string;
  stripePaymentIntentId: string | null;
  /** The charge's own `invoice` (before API 2025-03-31); otherwise set by linking through its invoice payment. */
  stripeInvoiceId: string | null;
  stripeCustomerId: string | null;
  /** succeeded, pending or failed, as sent. */
  status: string;
  amountCents: number;
  amountCapturedCents: number;
  amountRefundedCents: number;
  refunded: boolean;
  currency: string;
  receiptUrl: string | null;
  paymentMethodType: string | null;
  failureCode: string | null;
  /** Stripe's created. */
  createdAt: number;
  livemode: boolean;
}

export type ChargeRow = ChargeFields & LastEvent & Owned;

export interface ChargeSnapshot extends EventMeta {
  charge: ChargeFields;
  /** The refunds the charge lists (API versions before 2022-11-15, or expanded), read as refunds with this event's meta. */
  refunds: RefundSnapshot[];
}

/**
 * Every layout of the Charge that Stripe still sends:
 * - `invoice` is present before 2025-03-31 (basil), absent since: the invoice payment links it then;
 * - `refunds` is a list object `{data: [...]}`, an array in the oldest versions, and absent since
 *   2022-11-15 unless expanded;
 * - `status` is absent in the oldest versions, which said `paid` (true once the charge succeeded);
 * - `amount_captured` and `payment_method_details` are absent in the oldest versions: the captured
 *   amount follows `captured`, the method the `source`.
 * `payment_intent`, `customer` and `invoice` may be expanded objects.
 */
const chargeSchema = z.object({
  id: stripeId,
  object: z.literal('charge'),
  payment_intent: optionalReference,
  invoice: optionalReference,
  customer: optionalReference,
  status: statusName.nullish(),
  paid: z.boolean().nullish(),
  captured: z.boolean().nullish(),
  amount: cents,
  amount_captured: cents.nullish(),
  amount_refunded: cents.nullish(),
  refunded: z.boolean().nullish(),
  currency,
  receipt_url: optionalText,
  payment_method_details: z.object({ type: z.string().max(255).nullish() }).nullish(),
  source: z.object({ object: z.string().max(255).nullish(), type: z.string().max(255).nullish() }).nullish(),
  failure_code: optionalText,
  created: unixSeconds,
  livemode: z.boolean().optional(),
  refunds: z.union([z.array(z.unknown()), z.object({ data: z.array(z.unknown()) })]).nullish(),
});

type ChargeBody = z.infer<typeof chargeSchema>;

/** The status of a layout without one: `paid` was true once the charge succeeded, and a failure code says it failed. */
function statusOf(ch: ChargeBody): string {
  if (ch.status != null) return ch.status;
  if (ch.paid === true) return 'succeeded';
  return ch.failure_code !== null ? 'failed' : 'pending';
}

/** payment_method_details.type; before it existed, the source: a card, or a Source of some type. */
function methodTypeOf(ch: ChargeBody): string | null {
  if (ch.payment_method_details?.type) return ch.payment_method_details.type;
  const source = ch.source;
  if (!source?.object) return null;
  return source.object === 'source' ? (source.type ?? null) : source.object;
}

function listedRefunds(ch: ChargeBody): unknown[] {
  if (ch.refunds == null) return [];
  return Array.isArray(ch.refunds) ? ch.refunds : ch.refunds.data;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a charge.* event (not a dispute's or a refund's); MalformedEventError saying what is missing or wrong. */
export function readCharge(event: unknown): ChargeSnapshot {
  const { meta, object } = readEnvelope(event);
  const ch = readObject(chargeSchema, object, 'charge', meta.eventType);
  const refunds = listedRefunds(ch).map((r, i) => {
    if (!isRecord(r)) throw new MalformedEventError(`invalid charge in ${meta.eventType}: refunds[${i}]: expected a refund object`);
    return refundFromObject(r, meta, { chargeId: ch.id, paymentIntentId: ch.payment_intent });
  });
  return {
    ...meta,
    charge: {
      stripeChargeId: ch.id,
      stripePaymentIntentId: ch.payment_intent,
      stripeInvoiceId: ch.invoice,
      stripeCustomerId: ch.customer,
      status: statusOf(ch),
      amountCents: ch.amount,
      amountCapturedCents: ch.amount_captured ?? (ch.captured === true ? ch.amount : 0),
      amountRefundedCents: ch.amount_refunded ?? 0,
      refunded: ch.refunded ?? false,
      currency: ch.currency,
      receiptUrl: ch.receipt_url,
      paymentMethodType: methodTypeOf(ch),
      failureCode: ch.failure_code,
      createdAt: ch.created,
      livemode: ch.livemode ?? meta.livemode,
    },
    refunds,
  };
}
