import type { EntityManager } from 'typeorm';
import type { InvoiceState } from '../billing/invoice-state';
import { paidInvoiceEntry, refundEntries, type LedgerEntry, type WalletRefund } from '../billing/wallet';
import { chargesOfInvoices, invoicesOfCharges } from '../db/charges';
import { lockObjectNames, objectLockName } from '../db/object-locks';
import { refundsOfPayments } from '../db/refunds';
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
  const all = [...charges.values()].flat();
  const refunds = await refundsOfPayments(db, {
    chargeIds: all.map((c) => c.stripeChargeId),
    paymentIntentIds: all.flatMap((c) => c.stripePaymentIntentId ?? []),
  });
  const planned: LedgerEntry[] = [];
  for (const [invoiceId, entries] of ledger) {
    const mine = charges.get(invoiceId) ?? [];
    // A refund names its charge, or (some layouts) only its payment intent: either makes it this invoice's.
    const ofInvoice: WalletRefund[] = refunds.flatMap((r) => {
      const charge = mine.find((c) => c.stripeChargeId === r.stripeChargeId || (r.stripeChargeId === null && c.stripePaymentIntentId !== null && c.stripePaymentIntentId === r.stripePaymentIntentId));
      return charge ? [{ ...r, stripeChargeId: charge.stripeChargeId }] : [];
    });
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

/** The locks of the invoices whose wallets a change of these charges or payment intents may move (see ObjectKind.relatedLocks). */
export async function walletLocks(db: EntityManager, scope: { chargeIds: readonly string[]; paymentIntentIds: readonly string[] }): Promise<string[]> {
  return (await invoicesOfCharges(db, scope)).map((id) => objectLockName('invoice', id));
}

/**
 * The money kinds' ledger effects: a change of a charge, a refund or an invoice payment may make
 * a refund of a credited invoice known to the ledger (the refund itself; the link of its charge
 * to the invoice). The invoice's lock is what orders this against the transaction that credits
 * it; the batch took the locks of the invoices linked before it started (walletLocks). A link
 * that another transaction committed since is locked here, the one case that waits for a lock
 * after the batch's lock pass.
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
