import type { DataSource } from 'typeorm';
import { uid } from '../support/stripe-events';

export interface TestInvoice {
  id?: string;
  customerId?: string | null;
  customerName?: string | null;
  customerEmail?: string | null;
  number?: string | null;
  status?: 'draft' | 'open' | 'paid' | 'void' | 'uncollectible';
  amountCents?: number;
  amountPaidCents?: number;
  amountRemainingCents?: number;
  /** Null for a deletion stub. */
  currency?: string | null;
  /** Seconds from the database's now(); negative is past due. Null for no due date. */
  dueInSeconds?: number | null;
  createdAt?: string;
  deleted?: boolean;
  livemode?: boolean;
}

/**
 * Writes an invoice row directly, so each test states exactly the columns the views read. The due
 * date is set from the server's clock, the same clock the views compare it with.
 */
export async function insertInvoice(ds: DataSource, t: TestInvoice = {}): Promise<string> {
  const id = t.id ?? uid('in');
  const amount = t.amountCents ?? 1000;
  const paid = t.amountPaidCents ?? 0;
  await ds.query(
    `INSERT INTO invoices (stripe_invoice_id, stripe_customer_id, customer_name, customer_email, number, status,
                           amount_cents, amount_paid_cents, amount_remaining_cents, total_cents, currency, due_date,
                           hosted_invoice_url, invoice_pdf_url, livemode, stripe_created_at, finalized_at, deleted_at,
                           last_event_id, last_event_created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7, $10,
             CASE WHEN $11::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $11) END,
             'https://invoice.stripe.com/i/' || $1, 'https://pay.stripe.com/invoice/' || $1 || '/pdf', $12,
             coalesce($13::timestamptz, now() - interval '40 days'),
             CASE WHEN $6 = 'draft' THEN NULL ELSE coalesce($13::timestamptz, now() - interval '40 days') END,
             CASE WHEN $14 THEN now() END, 'evt_' || $1, now())`,
    [
      id,
      t.customerId === undefined ? uid('cus') : t.customerId,
      t.customerName === undefined ? 'Acme Corp' : t.customerName,
      t.customerEmail === undefined ? 'ap@acme.test' : t.customerEmail,
      t.number === undefined ? `INV-${id.slice(-6)}` : t.number,
      t.status ?? 'open',
      amount,
      paid,
      t.amountRemainingCents ?? amount - paid,
      t.currency === undefined ? 'usd' : t.currency,
      t.dueInSeconds === undefined ? 7 * 86400 : t.dueInSeconds,
      t.livemode ?? true,
      t.createdAt ?? null,
      t.deleted ?? false,
    ],
  );
  return id;
}

export const DAY = 86400;
export const MINUTE = 60;
