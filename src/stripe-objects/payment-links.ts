import type { EntityManager } from 'typeorm';
import { linkChargesToInvoices } from '../db/charges';
import { linkInvoicePaymentsToCharges } from '../db/invoice-payments';

/**
 * The locks an invoice payment, its charges and their refunds share: one per id of the payment
 * they name, its payment intent and its charge. An object names what its layout carries (a refund
 * of an older layout only its charge, a charge both), so each takes every name it knows: a charge
 * shares one with its invoice payment and one with each of its refunds, and waits for both.
 */
export const paymentLock = (paymentIntentId: string | null, chargeId: string | null): string[] =>
  [paymentIntentId, chargeId].filter((id): id is string => id !== null).map((id) => `payment:${id}`);

/**
 * Links invoice payments and charges, whichever arrived first: since API 2025-03-31 a charge no
 * longer names its invoice, so its invoice is that of the invoice payment paid by its payment
 * intent (or by the charge itself), and the invoice payment's charge is the succeeded charge of
 * its payment intent. Each side's kind calls this after writing its rows, holding the shared
 * `payment:` locks, so of two transactions writing the two sides the second sees the first's rows.
 */
export async function linkPayments(db: EntityManager, scope: { invoicePaymentIds: readonly string[]; chargeIds: readonly string[] }): Promise<void> {
  await linkChargesToInvoices(db, scope);
  await linkInvoicePaymentsToCharges(db, scope);
}
