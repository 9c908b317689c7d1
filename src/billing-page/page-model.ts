import type { PageBalanceRow, PageContactRow, PageInvoiceRow } from '../db/billing-page';
import { formatAmount, majorUnitsText } from '../mail/money';
import { formatDate } from './locale';
import type { PortalRole } from './token';

/**
 * The billing page's content, decided from the rows alone: which invoices show, with which pill and
 * which actions for the viewer's role. The HTML page and GET /billing/<token>.json both render
 * this, so a platform that draws its own page shows exactly what ours does.
 */

export type ActionKind = 'pay_now' | 'pay_overdue' | 'download' | 'receipt';
export type PillTone = 'red' | 'green' | 'grey' | 'amber';

export interface Action {
  kind: ActionKind;
  url: string;
}

export interface Money {
  /** Minor units, as text: exact whatever the size. */
  cents: string;
  /** Major units as a decimal string: "1500" JPY, "1.500" KWD. */
  amount: string;
  currency: string;
  /** For display in the viewer's locale: "¥1,500", "KWD 1.500". */
  formatted: string;
}

export interface PageInvoice {
  id: string;
  number: string | null;
  status: string;
  display_status: string;
  pill: { label: string; tone: PillTone };
  /** When it was issued (finalized), else created. */
  date: string | null;
  date_formatted: string | null;
  due_date: string | null;
  due_date_formatted: string | null;
  days_overdue: number;
  currency: string;
  amounts: { due: Money; paid: Money; remaining: Money; written_off: Money };
  actions: Action[];
}

export interface OverviewLine {
  currency: string;
  livemode: boolean;
  /** null when the customer has no ledger entry in this currency: no wallet to speak of. */
  wallet_balance: Money | null;
  amount_due: Money;
  open_invoices: number;
}

export interface PageModel {
  customer: { id: string; name: string | null };
  account: string | null;
  role: PortalRole;
  locale: string;
  overview: OverviewLine[];
  contact: { invoice_email: string | null; editable: false };
  /** Open invoices past due with money owed, oldest due first; empty: the section is not shown. */
  overdue: PageInvoice[];
  invoices: PageInvoice[];
  /** More invoices exist than listed; `next_limit` lists them with the next page. */
  has_more: boolean;
  next_limit: number | null;
}

export interface PageInput {
  customerId: string;
  accountId: string | null;
  role: PortalRole;
  locale: string;
  /** Up to limit + 1 rows, newest first: the extra row says that there are more. */
  invoices: PageInvoiceRow[];
  limit: number;
  overdue: PageInvoiceRow[];
  balances: PageBalanceRow[];
  contact: PageContactRow | null;
}

const PAGE_SIZE = 20;
const MAX_LIMIT = 500;

/** ?limit=… of the request: a multiple of the page size, at least one page, at most MAX_LIMIT. */
export function limitOf(raw: unknown): number {
  const n = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : PAGE_SIZE;
  return Math.min(MAX_LIMIT, Math.max(PAGE_SIZE, Math.ceil(n / PAGE_SIZE) * PAGE_SIZE));
}

const LISTED_STATUSES = new Set(['open', 'paid', 'void', 'uncollectible']);

export function pillOf(status: string, displayStatus: string): { label: string; tone: PillTone } {
  if (displayStatus === 'overdue') return { label: 'Overdue', tone: 'red' };
  switch (status) {
    case 'open':
      return { label: 'Open', tone: 'red' };
    case 'paid':
      return { label: 'Paid', tone: 'green' };
    case 'uncollectible':
      return { label: 'Uncollectible', tone: 'amber' };
    default:
      return { label: 'Void', tone: 'grey' };
  }
}

const isPositive = (cents: string): boolean => BigInt(cents) > 0n;

/** Only https links reach the page: anything else in a URL column is not a Stripe page. */
const link = (url: string | null): string | null => (url !== null && /^https:\/\/[^\s"'<>]+$/.test(url) ? url : null);

/** The invoice's actions by its state and the viewer's role; a link only where its URL exists. */
export function actionsOf(row: PageInvoiceRow, role: PortalRole): Action[] {
  const actions: Action[] = [];
  const pay = link(row.pay_url);
  const hosted = link(row.hosted_invoice_url);
  const pdf = link(row.pdf_url);
  const receipt = link(row.receipt_url);
  if (role === 'admin') {
    if (row.status === 'open' && pay) {
      actions.push({ kind: row.display_status === 'overdue' ? 'pay_overdue' : 'pay_now', url: pay });
    } else if (row.status === 'uncollectible' && hosted && isPositive(row.stripe_amount_remaining_cents)) {
      // Written off for finance, yet Stripe's hosted page still takes the payment.
      actions.push({ kind: 'pay_now', url: hosted });
    }
  }
  if (pdf) actions.push({ kind: 'download', url: pdf });
  if (row.status === 'paid' && receipt) actions.push({ kind: 'receipt', url: receipt });
  return actions;
}

function money(cents: string, currency: string, locale: string): Money {
  return { cents, amount: majorUnitsText(cents, currency), currency, formatted: formatAmount(cents, currency, locale) };
}

const dateOf = (d: Date | null): Date | null => (d === null ? null : new Date(d));

function invoiceOf(row: PageInvoiceRow, role: PortalRole, locale: string): PageInvoice {
  const issued = dateOf(row.finalized_at ?? row.created_at);
  const due = dateOf(row.due_date);
  const written = row.status === 'uncollectible' ? row.amount_written_off_cents : '0';
  return {
    id: row.invoice_id,
    number: row.number,
    status: row.status,
    display_status: row.display_status,
    pill: pillOf(row.status, row.display_status),
    date: issued ? issued.toISOString() : null,
    date_formatted: issued ? formatDate(issued, locale) : null,
    due_date: due ? due.toISOString() : null,
    due_date_formatted: due ? formatDate(due, locale) : null,
    days_overdue: Number(row.days_overdue),
    currency: row.currency,
    amounts: {
      due: money(row.amount_due_cents, row.currency, locale),
      paid: money(row.amount_paid_cents, row.currency, locale),
      remaining: money(row.amount_remaining_cents, row.currency, locale),
      written_off: money(written, row.currency, locale),
    },
    actions: actionsOf(row, role),
  };
}

export function pageModel(input: PageInput): PageModel {
  const { role, locale } = input;
  const listed = input.invoices.filter((r) => LISTED_STATUSES.has(r.status));
  const shown = listed.slice(0, input.limit);
  const hasMore = listed.length > input.limit;
  const latest = shown[0];
  return {
    customer: { id: input.customerId, name: latest?.customer_name ?? input.contact?.name ?? null },
    account: input.accountId,
    role,
    locale,
    overview: input.balances.map((b) => ({
      currency: b.currency,
      livemode: b.livemode,
      wallet_balance: b.last_entry_at === null ? null : money(b.balance_cents, b.currency, locale),
      amount_due: money(b.owed_cents, b.currency, locale),
      open_invoices: Number(b.open_invoices),
    })),
    // The latest invoice's recipient is where the next email goes (its own address counts in the
    // rule); with no invoice yet, the contact's.
    contact: { invoice_email: latest?.recipient_email ?? input.contact?.contact_email ?? null, editable: false },
    overdue: input.overdue.filter((r) => r.status === 'open' && r.display_status === 'overdue').map((r) => invoiceOf(r, role, locale)),
    invoices: shown.map((r) => invoiceOf(r, role, locale)),
    has_more: hasMore,
    next_limit: hasMore ? Math.min(MAX_LIMIT, input.limit + PAGE_SIZE) : null,
  };
}

/**
 * Whether the token's owner holds the customer's money: its invoices or wallet. A contact alone
 * does not say whose the customer is (`billing contacts set` can make one before any event).
 */
export function isKnownCustomer(input: Pick<PageInput, 'invoices' | 'balances'>): boolean {
  return input.invoices.length > 0 || input.balances.length > 0;
}
