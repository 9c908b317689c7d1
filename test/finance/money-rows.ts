import type { DataSource } from 'typeorm';

/**
 * Payment rows written directly, for the states no sequence of events leaves behind: a charge the
 * repository has not linked to its invoice, an open or canceled invoice payment (Stripe sends those
 * only as thin events). Each test states exactly the columns the views read.
 */

export async function insertInvoicePayment(
  ds: DataSource,
  p: { id: string; invoiceId: string; paymentIntentId?: string | null; chargeId?: string | null; status?: string; amountCents?: number; requestedCents?: number; currency?: string; createdAt?: string },
): Promise<void> {
  const status = p.status ?? 'paid';
  await ds.query(
    `INSERT INTO invoice_payments (stripe_invoice_payment_id, stripe_invoice_id, stripe_payment_intent_id, stripe_charge_id, status,
                                   amount_cents, amount_requested_cents, currency, is_default, created_at, livemode, last_event_id, last_event_created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $9, true, 'evt_' || $1, now())`,
    [p.id, p.invoiceId, p.paymentIntentId ?? null, p.chargeId ?? null, status, p.amountCents ?? (status === 'paid' ? 1000 : 0), p.requestedCents ?? 1000, p.currency ?? 'usd', p.createdAt ?? '2026-01-01T00:00:00Z'],
  );
}

export async function insertCharge(
  ds: DataSource,
  c: { id: string; invoiceId?: string | null; paymentIntentId?: string | null; status?: string; amountCents?: number; refundedCents?: number; createdAt?: string; receiptUrl?: string | null },
): Promise<void> {
  const status = c.status ?? 'succeeded';
  await ds.query(
    `INSERT INTO charges (stripe_charge_id, stripe_payment_intent_id, stripe_invoice_id, stripe_customer_id, status, amount_cents, amount_captured_cents,
                          amount_refunded_cents, refunded, currency, receipt_url, payment_method_type, created_at, livemode, last_event_id, last_event_created_at)
     VALUES ($1, $2, $3, 'cus_rows', $4, $5::bigint, $5::bigint, $6::bigint, $6::bigint >= $5::bigint, 'usd', $7, 'card', $8, true, 'evt_' || $1, now())`,
    [
      c.id,
      c.paymentIntentId ?? null,
      c.invoiceId ?? null,
      status,
      c.amountCents ?? 1000,
      c.refundedCents ?? 0,
      c.receiptUrl === undefined ? (status === 'succeeded' ? `https://pay.stripe.com/receipts/${c.id}` : null) : c.receiptUrl,
      c.createdAt ?? '2026-01-01T00:00:00Z',
    ],
  );
}

export async function insertRefund(ds: DataSource, r: { id: string; chargeId?: string | null; paymentIntentId?: string | null; status?: string | null; amountCents?: number }): Promise<void> {
  await ds.query(
    `INSERT INTO refunds (stripe_refund_id, stripe_charge_id, stripe_payment_intent_id, amount_cents, currency, status, created_at, livemode, last_event_id, last_event_created_at)
     VALUES ($1, $2, $3, $4, 'usd', $5, now(), true, 'evt_' || $1, now())`,
    [r.id, r.chargeId ?? null, r.paymentIntentId ?? null, r.amountCents ?? 100, r.status === undefined ? 'succeeded' : r.status],
  );
}

export async function insertCreditNote(
  ds: DataSource,
  n: { id: string; invoiceId: string; status?: string; type?: string; totalCents?: number; prePaymentCents?: number; outOfBandCents?: number | null; currency?: string; createdAt?: string },
): Promise<void> {
  const total = n.totalCents ?? 1000;
  const pre = n.prePaymentCents ?? (n.type === 'pre_payment' ? total : 0);
  await ds.query(
    `INSERT INTO credit_notes (stripe_credit_note_id, stripe_invoice_id, stripe_customer_id, number, status, type, reason, total_cents,
                               pre_payment_amount_cents, post_payment_amount_cents, out_of_band_amount_cents, currency, pdf_url, created_at, livemode,
                               last_event_id, last_event_created_at)
     VALUES ($1, $2, 'cus_rows', 'CN-' || right($1, 4), $3, $4, NULL, $5::bigint, $6::bigint, $5::bigint - $6::bigint, $7, $8, NULL, $9, true, 'evt_' || $1, now())`,
    [n.id, n.invoiceId, n.status ?? 'issued', n.type ?? 'post_payment', total, pre, n.outOfBandCents ?? null, n.currency ?? 'usd', n.createdAt ?? '2026-01-01T00:00:00Z'],
  );
}
