import type { InvoiceState } from './invoice-state';

/**
 * # Prepaid wallets
 *
 * Platforms that sell prepaid compute invoice for what a customer's wallet could not cover, and
 * say why in the invoice's `metadata.reason`. What paying the invoice does to the wallet follows
 * from the reason; every movement is an immutable ledger entry, written once (its natural key).
 *
 * | reason        | paying it                                     | entry            |
 * |---------------|-----------------------------------------------|------------------|
 * | topup_failed  | credits the wallet with the amount paid       | topup_credit     |
 * | overage       | clears the debt; the wallet is not credited   | overage_settled  |
 * | manual        | as `metadata.wallet_effect` says (credit/none) | manual_credit    |
 *
 * A refund of a charge that paid a crediting invoice takes back what it refunds (refund_reversal);
 * a refund that Stripe reports failed after it succeeded gives it back (refund_failed). A void invoice was never paid, so it has no entry to release.
 */

export const WALLET_REASONS = ['topup_failed', 'overage', 'manual'] as const;
export type WalletReason = (typeof WALLET_REASONS)[number];

export const LEDGER_ENTRY_TYPES = ['topup_credit', 'overage_settled', 'manual_credit', 'refund_reversal', 'refund_failed'] as const;
export type LedgerEntryType = (typeof LEDGER_ENTRY_TYPES)[number];

/** The metadata keys the platforms set on their invoices. */
export const REASON_KEY = 'reason';
export const WALLET_EFFECT_KEY = 'wallet_effect';

/** What paying an invoice does to its customer's wallet, read from its metadata. */
export type WalletEffect =
  | { effect: 'credit'; entryType: 'topup_credit' | 'manual_credit'; reason: WalletReason }
  | { effect: 'settle'; entryType: 'overage_settled'; reason: WalletReason }
  | { effect: 'none'; reason: string | null; unknown?: 'reason' | 'wallet_effect' };

/**
 * The wallet effect of an invoice's metadata. A reason (or a manual invoice's wallet_effect) this
 * code does not know has no effect and is marked unknown, for `stats` to report: guessing what a
 * platform meant would move money.
 */
export function walletEffectOf(metadata: Readonly<Record<string, string>>): WalletEffect {
  const reason = metadata[REASON_KEY];
  if (reason === undefined || reason === '') return { effect: 'none', reason: null };
  switch (reason) {
    case 'topup_failed':
      return { effect: 'credit', entryType: 'topup_credit', reason };
    case 'overage':
      return { effect: 'settle', entryType: 'overage_settled', reason };
    case 'manual': {
      const effect = metadata[WALLET_EFFECT_KEY];
      if (effect === 'credit') return { effect: 'credit', entryType: 'manual_credit', reason };
      if (effect === undefined || effect === '' || effect === 'none') return { effect: 'none', reason };
      return { effect: 'none', reason, unknown: 'wallet_effect' };
    }
    default:
      return { effect: 'none', reason, unknown: 'reason' };
  }
}

/** Whether an invoice's metadata names a reason (or a manual wallet_effect) this code does not know. */
export function hasUnknownWalletReason(metadata: Readonly<Record<string, string>>): boolean {
  const wallet = walletEffectOf(metadata);
  return wallet.effect === 'none' && wallet.unknown !== undefined;
}

/** One ledger entry to write; `naturalKey` makes a second write of it a no-op. */
export interface LedgerEntry {
  naturalKey: string;
  entryType: LedgerEntryType;
  /** Signed minor units: positive credits the wallet. */
  amountCents: number;
  debtSettledCents: number;
  stripeCustomerId: string | null;
  stripeAccountId: string | null;
  currency: string;
  stripeInvoiceId: string;
  stripeChargeId: string | null;
  stripeRefundId: string | null;
  reason: string | null;
  sourceEventId: string;
  livemode: boolean;
  occurredAt: number | null;
}

/**
 * What the customer paid: Stripe's amount_paid, or for an invoice marked paid out of band (whose
 * amount_paid older API versions leave at what was paid by card), what was due and no longer is.
 */
export const amountSettledCents = (invoice: InvoiceState): number => Math.max(invoice.amountPaidCents, invoice.amountCents - invoice.amountRemainingCents);

/**
 * The entry an invoice's change writes: only on its transition to paid (from nothing, open or
 * uncollectible; a paid invoice never leaves paid, so this happens once in its history), and only
 * when its reason has an effect. An invoice that settled nothing (a zero-amount invoice Stripe
 * marks paid at finalization) moves nothing and writes nothing. The
 * entry is the same whatever order the invoice's and its payment's events came in.
 */
export function paidInvoiceEntry(previous: InvoiceState | null, next: InvoiceState, sourceEventId: string): LedgerEntry | null {
  if (next.status !== 'paid' || previous?.status === 'paid' || next.currency === null) return null;
  const wallet = walletEffectOf(next.metadata);
  if (wallet.effect === 'none') return null;
  const settled = amountSettledCents(next);
  if (settled <= 0) return null;
  return {
    naturalKey: `${wallet.entryType}:${next.stripeInvoiceId}`,
    entryType: wallet.entryType,
    amountCents: wallet.effect === 'credit' ? settled : 0,
    debtSettledCents: wallet.effect === 'settle' ? settled : 0,
    stripeCustomerId: next.stripeCustomerId,
    stripeAccountId: next.stripeAccountId,
    currency: next.currency,
    stripeInvoiceId: next.stripeInvoiceId,
    // The paying charge may arrive after the invoice; an entry cannot be amended, so it names none
    // (finance_wallet_ledger shows the invoice's charge once known).
    stripeChargeId: null,
    stripeRefundId: null,
    reason: wallet.reason,
    sourceEventId,
    livemode: next.livemode,
    occurredAt: next.paidAt,
  };
}

/** A refund of one of the invoice's charges, as the ledger needs it. */
export interface WalletRefund {
  stripeRefundId: string;
  stripeChargeId: string;
  amountCents: number;
  status: string | null;
  createdAt: number;
  /** The event that last changed the refund's row: what the entry names as its source. */
  lastEventId: string;
}

const CREDITS: ReadonlySet<LedgerEntryType> = new Set(['topup_credit', 'manual_credit']);
/** Stripe documents that a succeeded refund can still fail; canceled ones never moved money. */
const UNDONE: ReadonlySet<string> = new Set(['failed', 'canceled']);

/**
 * The refund entries an invoice's refunds call for, given the entries it has (of any type): a
 * succeeded refund of a credited invoice takes its whole amount back, once; a refund reversed
 * before that Stripe now reports failed or canceled gives back what its reversal took, once. A
 * pending refund waits: it may never move money. Each refund's entries depend on that refund
 * alone, never on the order the others arrive in: what is refunded is bounded by Stripe (a charge
 * cannot be refunded beyond what it still holds, and a failed refund frees its amount for
 * another), so a cap here would only go wrong when a failure arrives after a later refund.
 */
export function refundEntries(entries: readonly LedgerEntry[], refunds: readonly WalletRefund[]): LedgerEntry[] {
  const credit = entries.find((e) => CREDITS.has(e.entryType));
  if (credit === undefined) return [];
  const written = new Map(entries.map((e) => [e.naturalKey, e]));
  const out: LedgerEntry[] = [];
  const ordered = [...refunds].sort((a, b) => a.createdAt - b.createdAt || a.stripeRefundId.localeCompare(b.stripeRefundId));
  for (const r of ordered) {
    const entry = (entryType: LedgerEntryType, amountCents: number): LedgerEntry => ({
      ...credit,
      naturalKey: `${entryType}:${r.stripeRefundId}`,
      entryType,
      amountCents,
      debtSettledCents: 0,
      stripeChargeId: r.stripeChargeId,
      stripeRefundId: r.stripeRefundId,
      sourceEventId: r.lastEventId,
      occurredAt: r.createdAt,
    });
    const reversal = written.get(`refund_reversal:${r.stripeRefundId}`);
    if (r.status === 'succeeded' && reversal === undefined && r.amountCents > 0) {
      out.push(entry('refund_reversal', -r.amountCents));
    } else if (r.status !== null && UNDONE.has(r.status) && reversal !== undefined && !written.has(`refund_failed:${r.stripeRefundId}`)) {
      out.push(entry('refund_failed', -reversal.amountCents));
    }
  }
  return out;
}
