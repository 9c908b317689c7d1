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
  /**
   * Due at noon UTC on the UTC calendar day this many days from today's (negative: past), so the
   * day count does not depend on the time of day the test runs at. Overrides dueInSeconds.
   */
  dueOnUtcDay?: number;
  /** An exact due moment (ISO). Overrides dueInSeconds and dueOnUtcDay. */
  dueAt?: string;
  createdAt?: string;
  /** Defaults to createdAt (null for drafts). */
  finalizedAt?: string | null;
  paidAt?: string | null;
  voidedAt?: string | null;
  markedUncollectibleAt?: string | null;
  metadata?: Record<string, string>;
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
                           last_event_id, last_event_created_at, paid_at, voided_at, marked_uncollectible_at, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7, $10,
             CASE WHEN $17::timestamptz IS NOT NULL THEN $17::timestamptz
                  WHEN $16::integer IS NOT NULL
                    THEN (date_trunc('day', now() AT TIME ZONE 'UTC') + make_interval(days => $16::integer, hours => 12)) AT TIME ZONE 'UTC'
                  WHEN $11::double precision IS NULL THEN NULL
                  ELSE now() + make_interval(secs => $11) END,
             'https://invoice.stripe.com/i/' || $1, 'https://pay.stripe.com/invoice/' || $1 || '/pdf', $12,
             coalesce($13::timestamptz, now() - interval '40 days'),
             CASE WHEN $15::boolean THEN $18::timestamptz
                  WHEN $6 = 'draft' THEN NULL
                  ELSE coalesce($13::timestamptz, now() - interval '40 days') END,
             CASE WHEN $14 THEN now() END, 'evt_' || $1, now(), $19, $20, $21, $22)`,
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
      t.finalizedAt !== undefined,
      t.dueOnUtcDay ?? null,
      t.dueAt ?? null,
      t.finalizedAt ?? null,
      t.paidAt ?? null,
      t.voidedAt ?? null,
      t.markedUncollectibleAt ?? null,
      JSON.stringify(t.metadata ?? {}),
    ],
  );
  return id;
}

export const DAY = 86400;
export const MINUTE = 60;

/** A billing contact, as `billing contacts set` stores it (here unchecked, to test what the views make of bad values). */
export async function insertContact(ds: DataSource, customerId: string, invoiceEmail: string | null, primaryEmail: string | null): Promise<void> {
  await ds.query(`INSERT INTO billing_contacts (stripe_customer_id, invoice_email, primary_email) VALUES ($1, $2, $3)`, [customerId, invoiceEmail, primaryEmail]);
}
