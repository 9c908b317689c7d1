import type { EntityManager } from 'typeorm';
import { accountParams, accountWhere } from './account-scope';

/**
 * What a customer's billing page reads: one customer of one owner (a connected account, or the
 * platform's own when `accountId` is null), never another's. Every statement takes the customer as
 * $1 and the owner as $2/$3 (accountWhere), so a token for a customer of another account reads
 * nothing at all.
 */
export interface PageScope {
  customerId: string;
  accountId: string | null;
}

/** One invoice of the page: finance_invoices' facts, plus what Stripe's pay page still takes. */
export interface PageInvoiceRow {
  invoice_id: string;
  number: string | null;
  customer_name: string | null;
  status: string;
  display_status: string;
  /** Minor units, as text (bigint). */
  amount_due_cents: string;
  amount_paid_cents: string;
  amount_remaining_cents: string;
  amount_written_off_cents: string;
  currency: string;
  due_date: Date | null;
  days_overdue: number;
  /** The pay page while the invoice is open with money owed (finance_invoices' rule). */
  pay_url: string | null;
  /**
   * The hosted invoice page and what Stripe still counts as unpaid: an uncollectible invoice is
   * written off for finance (nothing owed in the view), yet its hosted page still takes payment.
   */
  hosted_invoice_url: string | null;
  stripe_amount_remaining_cents: string;
  pdf_url: string | null;
  receipt_url: string | null;
  created_at: Date | null;
  finalized_at: Date | null;
  paid_at: Date | null;
  recipient_email: string | null;
  livemode: boolean;
}

export interface PageBalanceRow {
  currency: string;
  livemode: boolean;
  balance_cents: string;
  owed_cents: string;
  open_invoices: number;
  entries: number;
  /** null: the customer has no ledger entry in this currency (the wallet balance is not shown). */
  last_entry_at: Date | null;
}

export interface PageContactRow {
  name: string | null;
  /** The billing-contact rule without an invoice's own address: invoice_email, else primary_email. */
  contact_email: string | null;
}

/** The statuses the page lists: drafts and deleted invoices are never shown. */
const LISTED = `('open', 'paid', 'void', 'uncollectible')`;

const INVOICE_SELECT = `
  SELECT f.invoice_id, f.number, f.customer_name, f.status, f.display_status,
         f.amount_due_cents::text AS amount_due_cents, f.amount_paid_cents::text AS amount_paid_cents,
         f.amount_remaining_cents::text AS amount_remaining_cents,
         f.amount_written_off_cents::text AS amount_written_off_cents,
         f.currency, f.due_date, f.days_overdue, f.pay_url,
         i.hosted_invoice_url, i.amount_remaining_cents::text AS stripe_amount_remaining_cents,
         f.pdf_url, f.receipt_url, f.created_at, f.finalized_at, f.paid_at, f.recipient_email, f.livemode
    FROM finance_invoices f
    JOIN invoices i ON i.stripe_invoice_id = f.invoice_id`;

const NEWEST_FIRST = 'coalesce(finalized_at, stripe_created_at) DESC NULLS LAST, stripe_invoice_id DESC';

/**
 * The customer's latest invoices, newest first (by when each was issued), at most `limit`. The
 * page's ids are chosen from the invoices table first, so the view's money lookups run for those
 * rows only.
 */
export async function pageInvoices(db: EntityManager, scope: PageScope, limit: number): Promise<PageInvoiceRow[]> {
  return db.query(
    `${INVOICE_SELECT}
      WHERE f.invoice_id IN (
              SELECT stripe_invoice_id FROM invoices
               WHERE stripe_customer_id = $1 AND ${accountWhere('stripe_account_id', 2)}
                 AND status IN ${LISTED} AND deleted_at IS NULL AND currency IS NOT NULL
               ORDER BY ${NEWEST_FIRST} LIMIT $4)
      ORDER BY coalesce(f.finalized_at, f.created_at) DESC NULLS LAST, f.invoice_id DESC`,
    [scope.customerId, ...accountParams(scope.accountId), limit],
  );
}

/** Every overdue invoice of the customer (open, past due, money owed), oldest due first; at most `limit`. */
export async function pageOverdueInvoices(db: EntityManager, scope: PageScope, limit: number): Promise<PageInvoiceRow[]> {
  return db.query(
    `${INVOICE_SELECT}
      WHERE f.invoice_id IN (
              SELECT stripe_invoice_id FROM invoices
               WHERE stripe_customer_id = $1 AND ${accountWhere('stripe_account_id', 2)}
                 AND status = 'open' AND deleted_at IS NULL AND currency IS NOT NULL
                 AND due_date < now() AND amount_remaining_cents > 0)
        AND f.display_status = 'overdue'
      ORDER BY f.due_date, f.invoice_id
      LIMIT $4`,
    [scope.customerId, ...accountParams(scope.accountId), limit],
  );
}

/** The customer's wallet balance and amount due per currency (wallet_balances), by currency. */
export async function pageBalances(db: EntityManager, scope: PageScope): Promise<PageBalanceRow[]> {
  return db.query(
    `SELECT currency, livemode, balance_cents::text AS balance_cents, owed_cents::text AS owed_cents,
            open_invoices, entries, last_entry_at
       FROM wallet_balances
      WHERE customer_id = $1 AND ${accountWhere('stripe_account_id', 2)}
      ORDER BY livemode DESC, currency`,
    [scope.customerId, ...accountParams(scope.accountId)],
  );
}

/**
 * The customer's billing contact, when it is this owner's. A row `billing contacts set` made before
 * the customer's first event has no owner yet and counts as the platform's.
 */
export async function pageContact(db: EntityManager, scope: PageScope): Promise<PageContactRow | null> {
  const rows: PageContactRow[] = await db.query(
    `SELECT name, finance_email_recipient(invoice_email, NULL, primary_email) AS contact_email
       FROM billing_contacts
      WHERE stripe_customer_id = $1 AND ${accountWhere('stripe_account_id', 2)}`,
    [scope.customerId, ...accountParams(scope.accountId)],
  );
  return rows[0] ?? null;
}

/**
 * Whether another owner (another connected account, or the platform when the scope is an
 * account) holds this customer: its invoices, its ledger entries, or a contact it made its own.
 * A link for such a customer names the wrong owner, and is answered like a bad link. (`IS NOT
 * TRUE`: the scope's test is NULL, not false, on the platform's rows when it names an account.)
 */
export async function customerOfAnotherOwner(db: EntityManager, scope: PageScope): Promise<boolean> {
  const rows: { other: boolean }[] = await db.query(
    `SELECT EXISTS (SELECT 1 FROM invoices WHERE stripe_customer_id = $1 AND (${accountWhere('stripe_account_id', 2)}) IS NOT TRUE)
         OR EXISTS (SELECT 1 FROM wallet_ledger WHERE stripe_customer_id = $1 AND (${accountWhere('stripe_account_id', 2)}) IS NOT TRUE)
         OR EXISTS (SELECT 1 FROM billing_contacts WHERE stripe_customer_id = $1 AND stripe_account_id IS NOT NULL
                      AND (${accountWhere('stripe_account_id', 2)}) IS NOT TRUE) AS other`,
    [scope.customerId, ...accountParams(scope.accountId)],
  );
  return rows[0]?.other === true;
}

/**
 * The page's reads, in one read-only transaction: one snapshot of the customer's rows (the
 * overview and the list agree), and a public page that cannot write, whatever role it connects as.
 */
export function readOnlyPage<T>(db: EntityManager, read: (tx: EntityManager) => Promise<T>): Promise<T> {
  return db.transaction('REPEATABLE READ', async (tx) => {
    await tx.query('SET TRANSACTION READ ONLY');
    return read(tx);
  });
}
