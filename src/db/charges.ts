import type { EntityManager } from 'typeorm';
import type { ChargeRow } from '../stripe-objects/charge-schema';
import type { ObjectRepository } from './object-repository';
import { objectTable } from './object-table';
import { sqlClientOf } from './sql-client';

const chargeTable = objectTable<ChargeRow>({
  table: 'charges',
  columns: [
    ['stripeChargeId', 'stripe_charge_id', 'text'],
    ['stripePaymentIntentId', 'stripe_payment_intent_id', 'text'],
    ['stripeInvoiceId', 'stripe_invoice_id', 'text'],
    ['stripeCustomerId', 'stripe_customer_id', 'text'],
    ['status', 'status', 'text'],
    ['amountCents', 'amount_cents', 'cents'],
    ['amountCapturedCents', 'amount_captured_cents', 'cents'],
    ['amountRefundedCents', 'amount_refunded_cents', 'cents'],
    ['refunded', 'refunded', 'boolean'],
    ['currency', 'currency', 'text'],
    ['receiptUrl', 'receipt_url', 'text'],
    ['paymentMethodType', 'payment_method_type', 'text'],
    ['failureCode', 'failure_code', 'text'],
    ['createdAt', 'created_at', 'seconds'],
    ['livemode', 'livemode', 'boolean'],
    ['lastEventId', 'last_event_id', 'text'],
    ['lastEventCreatedAt', 'last_event_created_at', 'seconds'],
    ['stripeAccountId', 'stripe_account_id', 'text'],
  ],
});

export const findCharge = (db: EntityManager, id: string): Promise<ChargeRow | null> => chargeTable.findOne(db, id);

/** The receipt of an invoice: what its receipt email links to, and finance_invoice_rows shows. */
export interface InvoiceReceipt {
  /** The receipt_url of the latest succeeded charge of the invoice that has one; null while none has. */
  receiptUrl: string | null;
  /** Whether a succeeded charge of the invoice is known, with a receipt link or without. */
  charged: boolean;
}

/**
 * The receipt of the invoice: that of its latest succeeded charge that has one (by Stripe's
 * created), as finance_invoice_rows' receipt_url is. Its charges are those that name it in
 * stripe_invoice_id: their own invoice field, or the link linkChargesToInvoices writes as soon as
 * the charge and its invoice payment are both known.
 */
export async function receiptOfInvoice(db: EntityManager, stripeInvoiceId: string): Promise<InvoiceReceipt> {
  const rows: { receipt_url: string | null; charged: boolean }[] = await db.query(
    `SELECT (array_agg(receipt_url ORDER BY created_at DESC, stripe_charge_id DESC) FILTER (WHERE receipt_url IS NOT NULL))[1] AS receipt_url,
            count(*) > 0 AS charged
       FROM charges
      WHERE stripe_invoice_id = $1 AND status = 'succeeded'`,
    [stripeInvoiceId],
  );
  const r = rows[0];
  return { receiptUrl: r?.receipt_url ?? null, charged: r?.charged ?? false };
}

const LINK_TO_INVOICES = {
  name: 'link_charges_to_invoices',
  // Each lookup reads one index. A charge is linked once: should one payment intent pay several
  // invoices, the charge keeps the invoice of the first link made (the smallest invoice id among
  // the payments known then), and a payment canceled later does not unlink it. Every step is
  // MATERIALIZED: inlined, the planner re-ran them for every unlinked charge it joined against.
  // The charges are found by their keys alone, the payments' keys given as arrays, so the planner
  // cannot start from "not linked yet" and read every waiting charge: charges_invoice_idx holds
  // linked charges only. The payments of a charge are looked up by payment intent and by charge
  // apart, as one lookup with OR read the whole invoice_payments table; the smallest invoice is
  // taken of the rows found, as a min() of its own may walk the invoice index in order instead,
  // reading rows until one matches.
  text: `WITH payments AS MATERIALIZED (
           SELECT stripe_payment_intent_id, stripe_charge_id FROM invoice_payments
            WHERE stripe_invoice_payment_id = ANY($1::text[])
         ), scoped AS MATERIALIZED (
           SELECT stripe_charge_id, stripe_payment_intent_id FROM charges
            WHERE (stripe_charge_id = ANY($2::text[])
                   OR stripe_payment_intent_id = ANY(ARRAY(SELECT stripe_payment_intent_id FROM payments))
                   OR stripe_charge_id = ANY(ARRAY(SELECT stripe_charge_id FROM payments)))
              AND stripe_invoice_id IS NULL
         ), link AS MATERIALIZED (
           SELECT s.stripe_charge_id, min(p.stripe_invoice_id) AS stripe_invoice_id
             FROM scoped s LEFT JOIN LATERAL (
               SELECT ip.stripe_invoice_id FROM invoice_payments ip
                WHERE ip.stripe_payment_intent_id = s.stripe_payment_intent_id AND ip.status <> 'canceled'
               UNION ALL
               SELECT ip.stripe_invoice_id FROM invoice_payments ip
                WHERE ip.stripe_charge_id = s.stripe_charge_id AND ip.status <> 'canceled'
             ) p ON true
            GROUP BY s.stripe_charge_id
         )
         UPDATE charges AS ch SET stripe_invoice_id = link.stripe_invoice_id, updated_at = now()
           FROM link
          WHERE ch.stripe_charge_id = link.stripe_charge_id AND link.stripe_invoice_id IS NOT NULL AND ch.stripe_invoice_id IS NULL`,
};

/**
 * Names the invoice of charges that do not name one (API 2025-03-31 and later dropped the charge's
 * `invoice`): the invoice of the invoice payment paid by the charge's payment intent, or by the
 * charge itself. Only the charges given, or those the given invoice payments were paid by, are
 * looked at; a canceled invoice payment links nothing. The caller holds the payments' shared
 * locks (see ObjectKind.sharedLocks), so an invoice payment committed by another transaction is seen here.
 */
export async function linkChargesToInvoices(db: EntityManager, scope: { invoicePaymentIds: readonly string[]; chargeIds: readonly string[] }): Promise<number> {
  if (scope.invoicePaymentIds.length === 0 && scope.chargeIds.length === 0) return 0;
  const c = await sqlClientOf(db);
  const res = await c.query({ ...LINK_TO_INVOICES, values: [scope.invoicePaymentIds, scope.chargeIds] });
  return res.rowCount ?? 0;
}

/** The charge kind's write path (see ObjectRepository). */
export const chargeRepository: ObjectRepository<ChargeRow> = chargeTable;

/**
 * The charges linked to an invoice that these payment intents made, or that have these ids: those
 * invoice payments naming them may have just linked, and whose `payment:` locks (see paymentLock)
 * the invoice payments' transaction holds. A charge of the same invoice by another payment intent
 * is not among them: another transaction may be writing it.
 */
export async function linkedChargesOfPayments(db: EntityManager, scope: { paymentIntentIds: readonly string[]; chargeIds: readonly string[] }): Promise<ChargeRow[]> {
  if (scope.paymentIntentIds.length === 0 && scope.chargeIds.length === 0) return [];
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT ${chargeTable.selectList} FROM charges
      WHERE (stripe_payment_intent_id = ANY($1::text[]) OR stripe_charge_id = ANY($2::text[])) AND stripe_invoice_id IS NOT NULL
      ORDER BY created_at, stripe_charge_id`,
    [scope.paymentIntentIds, scope.chargeIds],
  );
  return rows.map(chargeTable.fromRow);
}

/**
 * The invoices these charges are linked to, or the charges of these payment intents (a refund may
 * name only its payment intent): whose wallets a change of them may move.
 */
export async function invoicesOfCharges(db: EntityManager, scope: { chargeIds: readonly string[]; paymentIntentIds: readonly string[] }): Promise<string[]> {
  if (scope.chargeIds.length === 0 && scope.paymentIntentIds.length === 0) return [];
  const rows: { stripe_invoice_id: string }[] = await db.query(
    `SELECT DISTINCT stripe_invoice_id FROM charges
      WHERE (stripe_charge_id = ANY($1::text[]) OR stripe_payment_intent_id = ANY($2::text[])) AND stripe_invoice_id IS NOT NULL
      ORDER BY stripe_invoice_id`,
    [scope.chargeIds, scope.paymentIntentIds],
  );
  return rows.map((r) => r.stripe_invoice_id);
}

/** The charges linked to each of these invoices, oldest first. */
export async function chargesOfInvoices(db: EntityManager, stripeInvoiceIds: readonly string[]): Promise<Map<string, ChargeRow[]>> {
  const out = new Map<string, ChargeRow[]>();
  if (stripeInvoiceIds.length === 0) return out;
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT ${chargeTable.selectList} FROM charges WHERE stripe_invoice_id = ANY($1::text[]) ORDER BY created_at, stripe_charge_id`,
    [stripeInvoiceIds],
  );
  for (const row of rows.map(chargeTable.fromRow)) out.set(row.stripeInvoiceId!, [...(out.get(row.stripeInvoiceId!) ?? []), row]);
  return out;
}
