import type { EntityManager } from 'typeorm';
import type { InvoiceState } from '../billing/invoice-state';
import { parseRefundSubject, refundNoticeTruth, type ToldRefund } from '../billing/notice-refunds';
import { findCharge, receiptOfInvoice } from '../db/charges';
import { invoicePaymentsOfInvoice } from '../db/invoice-payments';
import { refundNoticesOf, type ClaimedNotice } from '../db/notice-outbox';
import { findRefund, refundsOfCharge } from '../db/refunds';
import type { InvoicePaymentRow } from '../stripe-objects/invoice-payment-schema';
import type { OutboxContext, ReceiptFacts } from './delivery';
import type { NoticePayment } from './render-notice';
import { webUrl } from './web-url';

/** What the payment behind a notice adds: to the decision whether it goes now, and to its email. */
export interface PaymentFacts {
  context: Pick<OutboxContext, 'receipt' | 'refund'>;
  payment?: NoticePayment;
}

/**
 * Whether a charge may still come for a paid invoice that has none linked: something was paid,
 * and not only out of band (an invoice payment that names neither a payment intent nor a charge).
 * With no invoice payment known (API versions before them), a charge is expected.
 */
function chargeAwaited(invoice: Pick<InvoiceState, 'amountPaidCents'>, payments: readonly Pick<InvoicePaymentRow, 'status' | 'stripePaymentIntentId' | 'stripeChargeId'>[]): boolean {
  if (invoice.amountPaidCents <= 0) return false;
  const paid = payments.filter((p) => p.status === 'paid');
  return paid.length === 0 || paid.some((p) => p.stripePaymentIntentId !== null || p.stripeChargeId !== null);
}

/**
 * The receipt of the invoice (see receiptOfInvoice); while no succeeded charge is linked to it,
 * whether one may still come.
 */
async function receiptOf(db: EntityManager, invoice: InvoiceState, waitUntil: number): Promise<ReceiptFacts> {
  const receipt = await receiptOfInvoice(db, invoice.stripeInvoiceId);
  if (receipt.charged) return { url: webUrl(receipt.receiptUrl), awaited: false, waitUntil };
  return { url: null, awaited: chargeAwaited(invoice, await invoicePaymentsOfInvoice(db, invoice.stripeInvoiceId)), waitUntil };
}

/** The refund (or rise of amount_refunded) a refund notice tells of, read again as it is about to go out. */
async function refundFactsOf(db: EntityManager, n: Pick<ClaimedNotice, 'stripeInvoiceId' | 'subject' | 'amountCents'>): Promise<PaymentFacts> {
  const subject = parseRefundSubject(n.subject);
  if (subject === null || n.amountCents === null) return { context: { refund: { holds: false, reason: 'refund_unreadable' } } };
  const chargeId = 'refund' in subject ? ((await findRefund(db, subject.refund))?.stripeChargeId ?? null) : subject.charge;
  const charge = chargeId === null ? null : await findCharge(db, chargeId);
  if (charge === null) return { context: { refund: { holds: false, reason: 'refund_missing' } } };
  const refunds = (await refundsOfCharge(db, charge.stripeChargeId)).map((r) => ({ id: r.stripeRefundId, amountCents: r.amountCents, status: r.status, createdAt: r.createdAt }));
  const told = (await refundNoticesOf(db, [n.stripeInvoiceId])).get(n.stripeInvoiceId) ?? new Map<string, ToldRefund>();
  const truth = refundNoticeTruth(subject, { chargeId: charge.stripeChargeId, amountRefundedCents: charge.amountRefundedCents, refundedAt: charge.lastEventCreatedAt, refunds }, told);
  return {
    context: { refund: truth },
    payment: { receiptUrl: charge.receiptUrl, refunded: { amountCents: n.amountCents, currency: charge.currency } },
  };
}

/**
 * The payment facts a notice of this kind needs; none for the kinds about the invoice alone.
 * `receiptWaitSeconds` is RECEIPT_WAIT_SECONDS.
 */
export async function paymentFactsOf(
  db: EntityManager,
  n: Pick<ClaimedNotice, 'stripeInvoiceId' | 'kind' | 'subject' | 'amountCents' | 'queuedAt'>,
  invoice: InvoiceState | null,
  receiptWaitSeconds: number,
): Promise<PaymentFacts> {
  if (invoice === null) return { context: {} };
  if (n.kind === 'invoice_paid') {
    const receipt = await receiptOf(db, invoice, n.queuedAt + receiptWaitSeconds);
    return { context: { receipt }, payment: { receiptUrl: receipt.url } };
  }
  if (n.kind === 'refund_issued') return refundFactsOf(db, n);
  return { context: {} };
}
