import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as Mustache from 'mustache';
import type { InvoiceState } from '../billing/invoice-state';
import { NOTICE_KINDS, type NoticeKind } from '../billing/notice-kinds';
import { assertHeaderValue } from './address';
import { formatAmount } from './money';
import { webUrl } from './web-url';
import { daysPastDue, daysUntilDue } from '../billing/days';

export interface RenderNoticeInput {
  kind: NoticeKind;
  /** As queued: the attempt count for payment_failed, the k-th weekly reminder for overdue_reminder. */
  sequence: number;
  /**
   * Which reminder about this invoice the recipient is getting, counting those actually sent to
   * them (1 when none was): an overdue_reminder names it from the second on.
   */
  reminderNumber?: number;
  invoice: InvoiceState;
  nowSeconds: number;
  companyName: string;
  /** What the payment behind the notice adds (invoice_paid, refund_issued). */
  payment?: NoticePayment;
}

/** The charge and refund a notice is about, as the mailer found them when it was about to send. */
export interface NoticePayment {
  /** The charge's receipt (Stripe's receipt shows its refunds too); linked only when it is a web URL. */
  receiptUrl: string | null;
  /** refund_issued: what was refunded, in the charge's currency. */
  refunded?: { amountCents: number; currency: string };
}

export interface RenderedNotice {
  subject: string;
  text: string;
  html: string;
}

type Bodies = { kinds: Record<NoticeKind, string>; partials: Record<string, string> };
interface Templates {
  text: Bodies;
  html: Bodies;
}

const TEMPLATE_DIRS = [
  path.join(__dirname, 'templates'),
  // A bare `tsc` build leaves the templates behind; from dist/src/mail/ the sources are three up.
  path.join(__dirname, '..', '..', '..', 'src', 'mail', 'templates'),
  // A Lambda bundle is one file, handlers/<name>.js, with the templates packaged at their source path.
  path.join(__dirname, '..', 'src', 'mail', 'templates'),
];

function loadBodies(dir: string, ext: 'txt' | 'html'): Bodies {
  const read = (file: string) => {
    const full = path.join(dir, file);
    if (!existsSync(full)) throw new Error(`notice template ${full} is missing`);
    return readFileSync(full, 'utf8');
  };
  const kinds = Object.fromEntries(NOTICE_KINDS.map((k) => [k, read(`${k}.${ext}`)])) as Record<NoticeKind, string>;
  // `_footer.txt` is the partial `{{> footer}}` of the text bodies.
  const partials = Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.startsWith('_') && f.endsWith(`.${ext}`))
      .map((f) => [f.slice(1, -(ext.length + 1)), read(f)]),
  );
  return { kinds, partials };
}

let cached: Templates | null = null;

function templates(): Templates {
  if (cached) return cached;
  const dir = TEMPLATE_DIRS.find((d) => existsSync(d));
  if (dir === undefined) throw new Error(`notice templates not found in ${TEMPLATE_DIRS.join(' or ')}`);
  cached = { text: loadBodies(dir, 'txt'), html: loadBodies(dir, 'html') };
  return cached;
}

/** Reads the templates now rather than at the first send, so a broken deploy fails at startup. */
export function loadNoticeTemplates(): void {
  templates();
}

// Line breaks (any kind) and other controls in a customer-set value could forge lines in the text
// body or, via the subject, headers; a space keeps the words apart.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
const clean = (value: string | null): string => (value ?? '').replace(CONTROLS, ' ').trim();

const DATE = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' });
const formatDate = (seconds: number | null) => (seconds === null ? null : DATE.format(new Date(seconds * 1000)));
const days = (n: number) => `${n} ${n === 1 ? 'day' : 'days'}`;

const ORDINAL_RULES = new Intl.PluralRules('en-US', { type: 'ordinal' });
const ORDINAL_SUFFIX: Record<string, string> = { one: 'st', two: 'nd', few: 'rd', other: 'th' };
const ordinal = (n: number) => `${n}${ORDINAL_SUFFIX[ORDINAL_RULES.select(n)] ?? 'th'}`;

/** Which of the invoice's amounts each notice is about; a refund notice is about the refund's. */
const AMOUNT: Record<Exclude<NoticeKind, 'refund_issued'>, (i: InvoiceState) => number> = {
  invoice_issued: (i) => i.amountCents,
  payment_failed: (i) => i.amountRemainingCents,
  invoice_paid: (i) => i.amountPaidCents,
  due_soon: (i) => i.amountRemainingCents,
  overdue: (i) => i.amountRemainingCents,
  overdue_reminder: (i) => i.amountRemainingCents,
  invoice_voided: (i) => i.amountCents,
};

interface NoticeView {
  subject: string;
  companyName: string;
  greetingName: string;
  billingContactFor: string;
  invoiceNumber: string;
  amount: string;
  dueDate: string | null;
  /** "today", "tomorrow" or "in 3 days", in UTC calendar days; null without a due date. */
  dueIn: string | null;
  /** "5 days overdue", or just "overdue" when the count is unknown or zero. */
  overdueBy: string;
  paidDate: string | null;
  attempt: number;
  /** "2nd", as in "our 2nd reminder"; null for the first one the recipient gets. */
  reminder: string | null;
  invoiceUrl: string | null;
  pdfUrl: string | null;
  receiptUrl: string | null;
}

const SUBJECTS: Record<NoticeKind, (v: NoticeView) => string> = {
  invoice_issued: (v) => `Invoice ${v.invoiceNumber} from ${v.companyName}: ${v.amount} due${v.dueDate ? ` ${v.dueDate}` : ''}`,
  payment_failed: (v) => `Payment failed for invoice ${v.invoiceNumber} from ${v.companyName}`,
  invoice_paid: (v) => `Receipt for invoice ${v.invoiceNumber} from ${v.companyName}`,
  due_soon: (v) => `Invoice ${v.invoiceNumber} is due ${v.dueIn ?? 'soon'}`,
  overdue: (v) => `Invoice ${v.invoiceNumber} is ${v.overdueBy}`,
  // "Reminder:" only for a recipient who was reminded before: the first one they get just says it.
  overdue_reminder: (v) => (v.reminder ? `Reminder: invoice ${v.invoiceNumber} is ${v.overdueBy}` : `Invoice ${v.invoiceNumber} is ${v.overdueBy}`),
  invoice_voided: (v) => `Invoice ${v.invoiceNumber} has been voided`,
  refund_issued: (v) => `Refund of ${v.amount} for invoice ${v.invoiceNumber} from ${v.companyName}`,
};

function dueInWords(due: number, now: number): string {
  const n = Math.max(0, daysUntilDue(due, now));
  return n === 0 ? 'today' : n === 1 ? 'tomorrow' : `in ${days(n)}`;
}

function amountOf(kind: NoticeKind, invoice: InvoiceState, payment: NoticePayment | undefined): string {
  if (kind === 'refund_issued') {
    if (!payment?.refunded) throw new Error('a refund notice needs the amount refunded');
    return formatAmount(payment.refunded.amountCents, payment.refunded.currency);
  }
  if (invoice.currency === null) throw new Error(`invoice ${invoice.stripeInvoiceId} has no currency to render amounts in`);
  return formatAmount(AMOUNT[kind](invoice), invoice.currency);
}

function buildView({ kind, sequence, reminderNumber, invoice, nowSeconds, companyName, payment }: RenderNoticeInput): NoticeView {
  const due = invoice.dueDate;
  const daysOverdue = daysPastDue(due, nowSeconds);
  const customerName = clean(invoice.customerName);
  const view: Omit<NoticeView, 'subject'> = {
    companyName: clean(companyName),
    greetingName: customerName || 'there',
    billingContactFor: customerName || clean(invoice.customerEmail) || 'this account',
    invoiceNumber: clean(invoice.number) || clean(invoice.stripeInvoiceId),
    amount: amountOf(kind, invoice, payment),
    dueDate: formatDate(due),
    dueIn: due === null ? null : dueInWords(due, nowSeconds),
    overdueBy: daysOverdue > 0 ? `${days(daysOverdue)} overdue` : 'overdue',
    paidDate: formatDate(invoice.paidAt),
    // The queued sequence is the attempt that failed; the row may have moved on to a later one.
    attempt: sequence > 0 ? sequence : Math.max(1, invoice.attemptCount),
    reminder: (reminderNumber ?? 1) >= 2 ? ordinal(reminderNumber!) : null,
    invoiceUrl: webUrl(invoice.hostedInvoiceUrl),
    pdfUrl: webUrl(invoice.invoicePdfUrl),
    receiptUrl: webUrl(payment?.receiptUrl),
  };
  const subject = assertHeaderValue('Subject', SUBJECTS[kind]({ ...view, subject: '' }));
  return { ...view, subject };
}

// The text body is not HTML: escaping would show the reader `&amp;` for `&`.
const TEXT_CONFIG = { escape: (value: unknown) => String(value) };

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/**
 * Escapes what can break out of text or a quoted attribute, and nothing else: mustache's default
 * also encodes `/` and `=`, which leaves links as `https:&#x2F;&#x2F;…` that spam filters dislike.
 */
const HTML_CONFIG = { escape: (value: unknown) => String(value).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!) };

/** The subject and both bodies of one notice. Customer values are HTML-escaped in the HTML body. */
export function renderNotice(input: RenderNoticeInput): RenderedNotice {
  if (!NOTICE_KINDS.includes(input.kind)) throw new Error(`unknown notice kind ${String(input.kind)}`);
  const { text, html } = templates();
  const view = buildView(input);
  return {
    subject: view.subject,
    text: Mustache.render(text.kinds[input.kind], view, text.partials, TEXT_CONFIG),
    // The templates use no triple braces, so every value goes through HTML_CONFIG's escaping.
    html: Mustache.render(html.kinds[input.kind], view, html.partials, HTML_CONFIG),
  };
}
