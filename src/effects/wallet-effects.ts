import type { EntityManager } from 'typeorm';
import type { InvoiceState } from '../billing/invoice-state';
import { paidInvoiceEntry, refundEntries, type LedgerEntry, type WalletRefund } from '../billing/wallet';
import { chargesOfInvoices, invoicesOfCharges } from '../db/charges';
import { lockObjectNames, objectLockName } from '../db/object-locks';
import { refundsOfCharges } from '../db/refunds';
import { sqlClientOf } from '../db/sql-client';
import { ledgerEntriesOfInvoices, recordLedgerEntries } from '../db/wallet-ledger';

/** An invoice's change as the ledger reads it: the event that made it names the entry's source. */
export interface InvoiceWalletChange {
  previous: InvoiceState | null;
  next: InvoiceState;
  sourceEventId: string;
}

/**
 * The refund entries of these invoices: for each that has a credit entry, what its charges'
 * refunds call for (see refundEntries). The caller holds each invoice's object lock, so a credit
 * or a refund that another transaction is writing for the same invoice is either committed and
 * seen here, or waits for this one and sees what it wrote.
 */
async function refundsOfCredited(db: EntityManager, invoiceIds: readonly string[]): Promise<number> {
  const ledger = await ledgerEntriesOfInvoices(db, invoiceIds);
  if (ledger.size === 0) return 0;
  const charges = await chargesOfInvoices(db, [...ledger.keys()]);
  const refunds = await refundsOfCharges(db, [...charges.values()].flatMap((list) => list.map((c) => c.stripeChargeId)));
  const planned: LedgerEntry[] = [];
  for (const [invoiceId, entries] of ledger) {
    const ofInvoice: WalletRefund[] = (charges.get(invoiceId) ?? []).flatMap((c) =>
      (refunds.get(c.stripeChargeId) ?? []).map((r) => ({ ...r, stripeChargeId: c.stripeChargeId })),
    );
    planned.push(...refundEntries(entries, ofInvoice));
  }
  return recordLedgerEntries(db, planned);
}

/**
 * The invoice kind's ledger effects: an entry for each invoice whose change made it paid (see
 * paidInvoiceEntry), then the refunds of a newly credited invoice that were known before it was
 * paid (events come in any order). The batch holds these invoices' locks already. Says how many
 * entries were written.
 */
export async function walletOfPaidInvoices(db: EntityManager, changes: readonly InvoiceWalletChange[]): Promise<number> {
  const paid = changes.filter((c) => c.next.status === 'paid' && c.previous?.status !== 'paid');
  if (paid.length === 0) return 0;
  const planned = paid.flatMap((c) => paidInvoiceEntry(c.previous, c.next, c.sourceEventId) ?? []);
  if (planned.length === 0) return 0;
  const written = await recordLedgerEntries(db, planned);
  return written + (await refundsOfCredited(db, planned.map((e) => e.stripeInvoiceId)));
}

/**
 * The money kinds' ledger effects: a change of a charge, a refund or an invoice payment may make
 * a refund of a credited invoice known to the ledger (the refund itself; the link of its charge
 * to the invoice). The invoices they are linked to are locked here, after the batch's own locks:
 * the invoice's lock is what orders this against the transaction that credits the invoice.
 */
export async function walletOfPayments(db: EntityManager, scope: { chargeIds: readonly string[]; paymentIntentIds: readonly string[] }): Promise<number> {
  const invoiceIds = await invoicesOfCharges(db, scope);
  if (invoiceIds.length === 0) return 0;
  await lockObjectNames(
    await sqlClientOf(db),
    invoiceIds.map((id) => objectLockName('invoice', id)),
  );
  return refundsOfCredited(db, invoiceIds);
}
