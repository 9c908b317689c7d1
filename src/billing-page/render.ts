import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as Mustache from 'mustache';
import type { ActionKind, PageInvoice, PageModel } from './page-model';

/**
 * The page as HTML, from templates/ (mustache: every `{{value}}` is escaped; the one `{{{css}}}`
 * is our own stylesheet). The stylesheet is inlined and allowed by its hash in the CSP, so the
 * page is one response with no inline script and nothing else to fetch.
 */

const TEMPLATE_DIRS = [
  path.join(__dirname, 'templates'),
  // A bare `tsc` build leaves the templates behind; from dist/src/billing-page/ the sources are three up.
  path.join(__dirname, '..', '..', '..', 'src', 'billing-page', 'templates'),
  // A Lambda bundle is one file, handlers/<name>.js, with the templates packaged at their source path.
  path.join(__dirname, '..', 'src', 'billing-page', 'templates'),
];

interface Templates {
  page: string;
  notFound: string;
  css: string;
  /** The CSP source that allows exactly this stylesheet. */
  styleHash: string;
}

let cached: Templates | null = null;

export function pageTemplates(): Templates {
  if (cached) return cached;
  const dir = TEMPLATE_DIRS.find((d) => existsSync(path.join(d, 'page.mustache')));
  if (dir === undefined) throw new Error(`billing page templates not found in ${TEMPLATE_DIRS.join(' or ')}`);
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  const css = read('billing-page.css').trim();
  cached = {
    page: read('page.mustache'),
    notFound: read('not-found.mustache'),
    css,
    styleHash: `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`,
  };
  return cached;
}

const ACTION_LABELS: Record<ActionKind, { label: string; style: string; external: boolean }> = {
  pay_now: { label: 'Pay now', style: 'primary', external: false },
  pay_overdue: { label: 'Pay overdue', style: 'danger', external: false },
  download: { label: 'Download', style: '', external: false },
  receipt: { label: 'Receipt', style: '', external: true },
};

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many.replace('#', String(n)));

function invoiceView(inv: PageInvoice) {
  return {
    id: inv.id,
    numberText: inv.number ?? 'Invoice',
    displayStatus: inv.display_status,
    date: inv.date,
    dateText: inv.date_formatted,
    dueDate: inv.due_date,
    dueDateText: inv.due_date_formatted,
    daysOverdueText: plural(inv.days_overdue, '1 day overdue', '# days overdue'),
    amount: inv.amounts.due.formatted,
    remaining: inv.amounts.remaining.formatted,
    pill: inv.pill.label,
    tone: inv.pill.tone,
    hasActions: inv.actions.length > 0,
    actions: inv.actions.map((a) => ({ kind: a.kind, url: a.url, ...ACTION_LABELS[a.kind] })),
  };
}

/** The page; `moreHref` is the relative link that lists the next invoices (no script needed). */
export function renderPage(model: PageModel): string {
  const t = pageTemplates();
  const view = {
    lang: model.locale,
    css: t.css,
    customerName: model.customer.name,
    hasOverview: model.overview.length > 0,
    overview: model.overview.map((o) => ({
      currency: o.currency,
      currencyCode: o.currency.toUpperCase(),
      livemode: o.livemode,
      walletBalance: o.wallet_balance,
      amountDue: o.amount_due.formatted,
    })),
    contactEmail: model.contact.invoice_email,
    hasOverdue: model.overdue.length > 0,
    overdueSummary: plural(model.overdue.length, '1 invoice is past its due date.', '# invoices are past their due date.'),
    overdue: model.overdue.map(invoiceView),
    hasInvoices: model.invoices.length > 0,
    invoices: model.invoices.map(invoiceView),
    moreHref: model.next_limit === null ? null : `?limit=${model.next_limit}`,
    member: model.role === 'member',
  };
  return Mustache.render(t.page, view);
}

/** The one page every failure gets, whatever failed. */
export function renderMessage(title: string, message: string): string {
  const t = pageTemplates();
  return Mustache.render(t.notFound, { title, message, css: t.css });
}
