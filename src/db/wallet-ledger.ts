import type { EntityManager } from 'typeorm';
import type { LedgerEntry, LedgerEntryType } from '../billing/wallet';
import { accountParams, accountWhere, type AccountScope } from './account-scope';
import { WALLET_BALANCE_COLUMNS, WALLET_ENTRY_COLUMNS, type DbRow } from './finance-columns';

/** The channel every insert into wallet_ledger is announced on (payload: the entry's id), at commit. */
export const WALLET_LEDGER_CHANNEL = 'wallet_ledger';

const SELECT_ENTRY = `natural_key, entry_type, amount_cents, debt_settled_cents, stripe_customer_id, stripe_account_id, currency,
  stripe_invoice_id, stripe_charge_id, stripe_refund_id, reason, source_event_id, livemode, extract(epoch from occurred_at)::bigint AS occurred_at`;

const entryOf = (r: Record<string, unknown>): LedgerEntry => ({
  naturalKey: r['natural_key'] as string,
  entryType: r['entry_type'] as LedgerEntryType,
  amountCents: Number(r['amount_cents']),
  debtSettledCents: Number(r['debt_settled_cents']),
  stripeCustomerId: r['stripe_customer_id'] as string | null,
  stripeAccountId: r['stripe_account_id'] as string | null,
  currency: r['currency'] as string,
  stripeInvoiceId: r['stripe_invoice_id'] as string,
  stripeChargeId: r['stripe_charge_id'] as string | null,
  stripeRefundId: r['stripe_refund_id'] as string | null,
  reason: r['reason'] as string | null,
  sourceEventId: r['source_event_id'] as string,
  livemode: r['livemode'] as boolean,
  occurredAt: r['occurred_at'] === null ? null : Number(r['occurred_at']),
});

/**
 * Writes the entries no entry with the same natural key precedes, in one statement; the others
 * are the same fact written before (a duplicate event, a replay, reconcile) and change nothing.
 * Says how many were new.
 */
export async function recordLedgerEntries(db: EntityManager, entries: readonly LedgerEntry[]): Promise<number> {
  if (entries.length === 0) return 0;
  const col = <K extends keyof LedgerEntry>(k: K) => entries.map((e) => e[k]);
  const rows: unknown[] = await db.query(
    `INSERT INTO wallet_ledger (natural_key, entry_type, amount_cents, debt_settled_cents, stripe_customer_id, stripe_account_id, currency,
                                stripe_invoice_id, stripe_charge_id, stripe_refund_id, reason, source_event_id, livemode, occurred_at)
     SELECT k, t, a, d, cu, ac, cy, i, ch, r, re, s, l, to_timestamp(o)
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                   $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::boolean[], $14::double precision[])
            WITH ORDINALITY AS n(k, t, a, d, cu, ac, cy, i, ch, r, re, s, l, o, ord)
      ORDER BY ord
     ON CONFLICT (natural_key) DO NOTHING
     RETURNING id`,
    [
      col('naturalKey'),
      col('entryType'),
      col('amountCents'),
      col('debtSettledCents'),
      col('stripeCustomerId'),
      col('stripeAccountId'),
      col('currency'),
      col('stripeInvoiceId'),
      col('stripeChargeId'),
      col('stripeRefundId'),
      col('reason'),
      col('sourceEventId'),
      col('livemode'),
      col('occurredAt'),
    ],
  );
  return rows.length;
}

/** The entries of each of these invoices, oldest first. */
export async function ledgerEntriesOfInvoices(db: EntityManager, stripeInvoiceIds: readonly string[]): Promise<Map<string, LedgerEntry[]>> {
  const out = new Map<string, LedgerEntry[]>();
  if (stripeInvoiceIds.length === 0) return out;
  const rows: Record<string, unknown>[] = await db.query(`SELECT ${SELECT_ENTRY} FROM wallet_ledger WHERE stripe_invoice_id = ANY($1::text[]) ORDER BY id`, [
    stripeInvoiceIds,
  ]);
  for (const e of rows.map(entryOf)) out.set(e.stripeInvoiceId, [...(out.get(e.stripeInvoiceId) ?? []), e]);
  return out;
}

/** A customer's wallet, as wallet_balances and finance_wallet_ledger have it: balances per currency and mode, entries newest first. */
export async function walletOf(db: EntityManager, customerId: string, account: AccountScope): Promise<{ balances: DbRow[]; entries: DbRow[] }> {
  const values = [customerId, ...accountParams(account)];
  const balances: DbRow[] = await db.query(
    `SELECT ${WALLET_BALANCE_COLUMNS.map(([c]) => c).join(', ')}
       FROM wallet_balances WHERE customer_id = $1 AND ${accountWhere('stripe_account_id', 2)}
      ORDER BY livemode DESC, stripe_account_id NULLS FIRST, currency`,
    values,
  );
  const entries: DbRow[] = await db.query(
    `SELECT ${WALLET_ENTRY_COLUMNS.map(([c]) => c).join(', ')}
       FROM finance_wallet_ledger WHERE customer_id = $1 AND ${accountWhere('stripe_account_id', 2)}
      ORDER BY entry_id DESC`,
    values,
  );
  return { balances, entries };
}
