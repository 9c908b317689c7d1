import { z } from 'zod';
import { unixSeconds } from '../billing/invoice-layouts';
import { readEnvelope, readObject, type EventMeta } from '../billing/event-envelope';
import { MalformedEventError } from '../errors';
import { reference, stripeId } from './payment-fields';

/** What one snapshot says about a credit note, in the row's terms. */
export interface CreditNoteFields {
  stripeInvoiceId: string;
  stripeCustomerId: string | null;
  number: string | null;
  /** `issued` or `void`, or a status Stripe adds later (its SDK types the field as open-ended). */
  status: string;
  /** `pre_payment`, `post_payment` or `mixed`, as Stripe sent it. */
  type: string;
  reason: string | null;
  totalCents: number;
  prePaymentAmountCents: number;
  postPaymentAmountCents: number;
  outOfBandAmountCents: number | null;
  currency: string;
  pdfUrl: string | null;
  /** Stripe's `created`: when the credit note was issued. */
  createdAt: number;
  /** Only a void credit note has one (see voidedAtOf). */
  voidedAt: number | null;
  livemode: boolean;
}

export interface CreditNoteSnapshot extends EventMeta {
  stripeCreditNoteId: string;
  fields: CreditNoteFields;
}

const cents = z.number().int().nonnegative().safe();
const text = z.string().max(5000);
/** Stripe's enum values are lowercase snake_case; anything else is not a value Stripe sent. */
const enumValue = z.string().max(64).regex(/^[a-z][a-z0-9_]*$/, 'must be a lowercase Stripe enum value');

const creditNoteSchema = z.object({
  id: stripeId,
  object: z.literal('credit_note'),
  invoice: reference,
  customer: reference.nullish(),
  number: text.nullish(),
  status: enumValue,
  type: enumValue,
  reason: text.nullish(),
  total: cents.optional(),
  /** The total including tax; every layout has it, and older ones may lack `total`. */
  amount: cents.optional(),
  pre_payment_amount: cents.nullish(),
  post_payment_amount: cents.nullish(),
  out_of_band_amount: cents.nullish(),
  currency: z.string().regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO currency code'),
  pdf: text.nullish(),
  created: unixSeconds,
  voided_at: unixSeconds.nullish(),
  livemode: z.boolean().optional(),
});

type CreditNoteBody = z.infer<typeof creditNoteSchema>;

/**
 * How the total splits into what reduced the invoice's amount due (pre-payment) and what was
 * credited after payment (refund, customer balance, out of band). Stripe added
 * `pre_payment_amount` and `post_payment_amount` later; an older payload has only `type`
 * (`pre_payment` or `post_payment`), which said the whole total was one or the other. One amount given
 * without the other leaves the rest of the total to the other. Null when the payload cannot be
 * split this way (a mixed or unknown type with neither amount): not one Stripe sends.
 */
function paymentSplit(cn: Pick<CreditNoteBody, 'type' | 'pre_payment_amount' | 'post_payment_amount'>, total: number): { pre: number; post: number } | null {
  const pre = cn.pre_payment_amount ?? null;
  const post = cn.post_payment_amount ?? null;
  if (pre !== null && post !== null) return { pre, post };
  if (pre !== null) return { pre, post: Math.max(total - pre, 0) };
  if (post !== null) return { pre: Math.max(total - post, 0), post };
  if (cn.type === 'pre_payment') return { pre: total, post: 0 };
  if (cn.type === 'post_payment') return { pre: 0, post: total };
  return null;
}

/**
 * When a credit note was voided: only a void one has a time (Stripe's OpenAPI fixture carries a
 * voided_at on an issued one, which would make a row claim both). A void payload without
 * voided_at (an older layout) was void by the time of its event, so that is used; the merge keeps
 * the earliest time any snapshot gives.
 */
const voidedAtOf = (cn: CreditNoteBody, eventCreated: number): number | null => (cn.status === 'void' ? (cn.voided_at ?? eventCreated) : null);

/** Turns a verified credit note event into a snapshot, or throws MalformedEventError saying what is wrong. */
export function readCreditNoteEvent(event: unknown): CreditNoteSnapshot {
  const { meta, object } = readEnvelope(event);
  const cn = readObject(creditNoteSchema, object, 'credit note', meta.eventType);
  const invalid = (why: string) => new MalformedEventError(`invalid credit note in ${meta.eventType}: ${why}`);
  const total = cn.total ?? cn.amount;
  if (total === undefined) throw invalid('total: missing');
  const split = paymentSplit(cn, total);
  if (split === null) throw invalid(`pre_payment_amount: missing (a ${cn.type} credit note must say how its total splits)`);
  return {
    ...meta,
    stripeCreditNoteId: cn.id,
    fields: {
      stripeInvoiceId: cn.invoice,
      stripeCustomerId: cn.customer ?? null,
      number: cn.number ?? null,
      status: cn.status,
      type: cn.type,
      reason: cn.reason ?? null,
      totalCents: total,
      prePaymentAmountCents: split.pre,
      postPaymentAmountCents: split.post,
      outOfBandAmountCents: cn.out_of_band_amount ?? null,
      currency: cn.currency.toLowerCase(),
      pdfUrl: cn.pdf ?? null,
      createdAt: cn.created,
      voidedAt: voidedAtOf(cn, meta.eventCreated),
      livemode: cn.livemode ?? meta.livemode,
    },
  };
}
