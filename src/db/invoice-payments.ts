import type { EntityManager } from 'typeorm';
import type { InvoicePaymentRow } from '../stripe-objects/invoice-payment-schema';
import type { ObjectRepository } from './object-repository';
import { objectTable } from './object-table';
import { sqlClientOf } from './sql-client';

const invoicePaymentTable = objectTable<InvoicePaymentRow>({
  table: 'invoice_payments',
  columns: [
    ['stripeInvoicePaymentId', 'stripe_invoice_payment_id', 'text'],
    ['stripeInvoiceId', 'stripe_invoice_id', 'text'],
    ['stripePaymentIntentId', 'stripe_payment_intent_id', 'text'],
    ['stripeChargeId', 'stripe_charge_id', 'text'],
    ['status', 'status', 'text'],
    ['amountCents', 'amount_cents', 'cents'],
    ['amountRequestedCents', 'amount_requested_cents', 'cents'],
    ['currency', 'currency', 'text'],
    ['isDefault', 'is_default', 'boolean'],
    ['paidAt', 'paid_at', 'seconds'],
    ['canceledAt', 'canceled_at', 'seconds'],
    ['createdAt', 'created_at', 'seconds'],
    ['livemode', 'livemode', 'boolean'],
    ['lastEventId', 'last_event_id', 'text'],
    ['lastEventCreatedAt', 'last_event_created_at', 'seconds'],
    ['stripeAccountId', 'stripe_account_id', 'text'],
  ],
});

export const findInvoicePayment = (db: EntityManager, id: string): Promise<InvoicePaymentRow | null> => invoicePaymentTable.findOne(db, id);

/** Every payment applied to the invoice, oldest first. */
export async function invoicePaymentsOfInvoice(db: EntityManager, stripeInvoiceId: string): Promise<InvoicePaymentRow[]> {
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT ${invoicePaymentTable.selectList} FROM invoice_payments WHERE stripe_invoice_id = $1 ORDER BY created_at, stripe_invoice_payment_id`,
    [stripeInvoiceId],
  );
  return rows.map(invoicePaymentTable.fromRow);
}

const LINK_TO_CHARGES = {
  name: 'link_invoice_payments_to_charges',
  // A payment intent has at most one succeeded charge; min() keeps the statement deterministic
  // regardless. Every step is MATERIALIZED, as in link_charges_to_invoices: computed once, not
  // again for every row the update is joined against; and the payments are found by their keys
  // alone, the charges' payment intents given as an array, as invoice_payments_charge_idx holds
  // linked payments only. The smallest charge is taken of the rows found, as a min() of its own
  // may walk the charges' key index in order instead, reading rows until one matches.
  text: `WITH charged AS MATERIALIZED (
           SELECT stripe_payment_intent_id FROM charges WHERE stripe_charge_id = ANY($2::text[])
         ), scoped AS MATERIALIZED (
           SELECT stripe_invoice_payment_id, stripe_payment_intent_id FROM invoice_payments
            WHERE (stripe_invoice_payment_id = ANY($1::text[])
                   OR stripe_payment_intent_id = ANY(ARRAY(SELECT stripe_payment_intent_id FROM charged)))
              AND stripe_charge_id IS NULL AND stripe_payment_intent_id IS NOT NULL
         ), link AS MATERIALIZED (
           SELECT s.stripe_invoice_payment_id, min(c.stripe_charge_id) AS stripe_charge_id
             FROM scoped s LEFT JOIN charges c ON c.stripe_payment_intent_id = s.stripe_payment_intent_id AND c.status = 'succeeded'
            GROUP BY s.stripe_invoice_payment_id
         )
         UPDATE invoice_payments AS ip SET stripe_charge_id = link.stripe_charge_id, updated_at = now()
           FROM link
          WHERE ip.stripe_invoice_payment_id = link.stripe_invoice_payment_id AND link.stripe_charge_id IS NOT NULL AND ip.stripe_charge_id IS NULL`,
};

/**
 * Names the charge of invoice payments that do not name one yet: the succeeded charge of their
 * payment intent. Only the payments given, or those of the payment intents of the charges given,
 * are looked at. The caller holds the payments' shared locks (see ObjectKind.sharedLocks), so a
 * charge committed by another transaction is seen here.
 */
export async function linkInvoicePaymentsToCharges(db: EntityManager, scope: { invoicePaymentIds: readonly string[]; chargeIds: readonly string[] }): Promise<number> {
  if (scope.invoicePaymentIds.length === 0 && scope.chargeIds.length === 0) return 0;
  const c = await sqlClientOf(db);
  const res = await c.query({ ...LINK_TO_CHARGES, values: [scope.invoicePaymentIds, scope.chargeIds] });
  return res.rowCount ?? 0;
}

/** The invoice payment kind's write path (see ObjectRepository). */
export const invoicePaymentRepository: ObjectRepository<InvoicePaymentRow> = invoicePaymentTable;
