import type { EntityManager } from 'typeorm';
import { planRefundNotices, toldOf, type RefundFact, type RefundOccasion, type ToldRefund } from '../billing/notice-refunds';
import { policyFor, type NoticePolicy } from '../billing/notice-plan';
import { chargeRepository } from '../db/charges';
import { recordNotices, refundNoticesOf, wakeReceiptNotices, type InvoiceNotice } from '../db/notice-outbox';
import { refundsOfCharges } from '../db/refunds';
import type { EffectCounts } from '../stripe-objects/object-kind';
import { refundJoin } from '../stripe-objects/refund';
import type { RefundRow, RefundSnapshot } from '../stripe-objects/refund-schema';
import { joinStep } from '../stripe-objects/row-join';

/** One charge to look at again, and why: a change of it, of one of its refunds, or of its invoice payment. */
export interface ChargeReview {
  chargeId: string;
  occasion: RefundOccasion;
  /**
   * Refunds the change's snapshot lists (an older API version's charge.refunded): their kind writes
   * them after this one, in the same batch, yet they already explain the charge's amount_refunded.
   */
  listed?: readonly RefundSnapshot[];
}

/**
 * What the money kinds' changes ask of the outbox. Runs in the transaction that wrote them,
 * holding their payments' shared locks (see ObjectKind.sharedLocks), so the refunds, the charge
 * and the refund notices it reads are all that committed before, and nothing moves under it.
 */
export type PaymentNoticeEffects = (db: EntityManager, reviews: readonly ChargeReview[], nowSeconds: number) => Promise<EffectCounts>;

const refundStep = joinStep(refundJoin);

const asFact = (r: RefundRow): RefundFact => ({ id: r.stripeRefundId, amountCents: r.amountCents, status: r.status, createdAt: r.createdAt });

/** The charge's refund rows, with the ones a snapshot lists merged in as their kind will merge them. */
function knownRefunds(rows: readonly RefundRow[], listed: readonly RefundSnapshot[], now: number): RefundFact[] {
  const byId = new Map(rows.map((r) => [r.stripeRefundId, r]));
  for (const s of listed) byId.set(s.refund.stripeRefundId, refundStep(byId.get(s.refund.stripeRefundId) ?? null, s, { now }));
  return [...byId.values()].map(asFact);
}

/**
 * The refund notices of the charges reviewed (those linked to an invoice; a charge of no invoice,
 * such as a one-off Checkout payment, has no invoice email to send), in five statements whatever
 * their number; and the receipts waiting for these charges are woken. Reviews of one charge are
 * planned in order, each seeing the notices planned before it.
 */
export function paymentNoticeEffects(policy: NoticePolicy): PaymentNoticeEffects {
  return async (db, reviews, nowSeconds) => {
    if (reviews.length === 0) return { queued: 0, skipped: 0 };
    const charges = await chargeRepository.find(db, [...new Set(reviews.map((r) => r.chargeId))]);
    const linked = [...charges.values()].filter((c) => c.stripeInvoiceId !== null);
    if (linked.length === 0) return { queued: 0, skipped: 0 };
    const invoiceIds = [...new Set(linked.map((c) => c.stripeInvoiceId!))];
    const refunds = await refundsOfCharges(db, linked.map((c) => c.stripeChargeId));
    const receipts = [...new Set(linked.filter((c) => c.status === 'succeeded').map((c) => c.stripeInvoiceId!))];
    // Most charge events of a paid invoice refund nothing: then there is nothing to tell, and the
    // outbox need not be read.
    const refundedAny = linked.some((c) => c.amountRefundedCents > 0 || refunds.has(c.stripeChargeId)) || reviews.some((r) => (r.listed ?? []).length > 0);
    if (!refundedAny) {
      await wakeReceiptNotices(db, receipts, nowSeconds);
      return { queued: 0, skipped: 0 };
    }
    const outbox = await refundNoticesOf(db, invoiceIds);

    const writes: InvoiceNotice[] = [];
    for (const review of reviews) {
      const charge = charges.get(review.chargeId);
      if (!charge || charge.stripeInvoiceId === null) continue;
      const invoiceId = charge.stripeInvoiceId;
      const told = outbox.get(invoiceId) ?? new Map<string, ToldRefund>();
      outbox.set(invoiceId, told);
      const planned = planRefundNotices(
        {
          chargeId: charge.stripeChargeId,
          amountRefundedCents: charge.amountRefundedCents,
          refundedAt: charge.lastEventCreatedAt,
          refunds: knownRefunds(refunds.get(charge.stripeChargeId) ?? [], review.listed ?? [], nowSeconds),
        },
        told,
        review.occasion,
        nowSeconds,
        policyFor(policy, charge.stripeAccountId),
      );
      for (const n of planned) {
        writes.push({ ...n, stripeInvoiceId: invoiceId });
        told.set(n.subject, toldOf(n));
      }
    }
    const written = await recordNotices(db, writes, nowSeconds);
    await wakeReceiptNotices(db, receipts, nowSeconds);
    return written;
  };
}
