import type { InvoiceState } from '../../src/billing/invoice-state';
import { NOTICE_KINDS, type NoticeKind } from '../../src/billing/notice-kinds';
import { loadNoticeTemplates, renderNotice, type NoticePayment } from '../../src/mail/render-notice';
import { openInvoiceState } from '../support/invoice-state';

const DAY = 86_400;
const DUE = Date.UTC(2027, 0, 5) / 1000; // January 5, 2027, 00:00 UTC
const PAID = Date.UTC(2027, 0, 3, 15, 30) / 1000;
const PAY_URL = 'https://invoice.stripe.com/i/acct_1Abc/test_YWNjdF8x?s=ap';
const PDF_URL = 'https://pay.stripe.com/invoice/acct_1Abc/test_YWNjdF8x/pdf?s=ap';

function invoice(overrides: Partial<InvoiceState> = {}): InvoiceState {
  return openInvoiceState(DUE, {
    stripeInvoiceId: 'in_1Render',
    stripeCustomerId: 'cus_Render',
    hostedInvoiceUrl: PAY_URL,
    invoicePdfUrl: PDF_URL,
    stripeCreatedAt: DUE - 30 * DAY,
    lastEventId: 'evt_1Render',
    ...overrides,
  });
}

const RECEIPT_URL = 'https://pay.stripe.com/receipts/invoices/CAcaFwoVYWNjdF8x?s=ap';
/** A refund notice is about its refund's amount; the other kinds about the invoice's, with no payment. */
const REFUND: NoticePayment = { receiptUrl: null, refunded: { amountCents: 300, currency: 'usd' } };
const paymentFor = (kind: NoticeKind): { payment?: NoticePayment } => (kind === 'refund_issued' ? { payment: REFUND } : {});

const render = (kind: NoticeKind, inv: InvoiceState, nowSeconds = DUE - 10 * DAY, sequence = 0, reminderNumber?: number, payment?: NoticePayment) =>
  renderNotice({
    kind,
    sequence,
    ...(reminderNumber === undefined ? {} : { reminderNumber }),
    invoice: inv,
    nowSeconds,
    companyName: 'Acme Corp',
    ...(payment ? { payment } : paymentFor(kind)),
  });

// Mustache's escaping writes `/` and `=` as entities, which is valid in an attribute; decoding
// lets the assertions name URLs as they are.
const decode = (html: string) =>
  html
    .replace(/&#x([0-9a-f]+);/gi, (_m, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_m, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
const hrefs = (html: string) => [...decode(html).matchAll(/href="([^"]*)"/g)].map((m) => m[1]);

describe('renderNotice', () => {
  it('loads the templates for every kind up front', () => {
    expect(() => loadNoticeTemplates()).not.toThrow();
  });

  describe.each(NOTICE_KINDS)('%s', (kind) => {
    it('renders a complete text and HTML body with no template tags left', () => {
      const { subject, text, html } = render(kind, invoice({ paidAt: PAID }), DUE + 5 * DAY, 1);
      expect(subject.length).toBeGreaterThan(0);
      expect(text).toMatch(/^Hello Jane Doe,\n/);
      expect(text).toContain('You receive this because you are the billing contact for Jane Doe.');
      expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
      expect(html).toContain(`<title>${subject}</title>`);
      expect(html).toContain('<p style="margin:0 0 16px;">Hello Jane Doe,</p>');
      expect(html).toContain('You receive this because you are the billing contact for Jane Doe.');
      expect(`${text}${html}`).not.toMatch(/\{\{|\}\}/);
    });

    it('leaves out every link when the invoice has none', () => {
      const { text, html } = render(kind, invoice({ hostedInvoiceUrl: null, invoicePdfUrl: null }));
      expect(text).not.toContain('http');
      expect(html).not.toContain('<a ');
      expect(html).not.toContain('href');
    });

    it('drops links that are not web URLs', () => {
      const { text, html } = render(
        kind,
        invoice({ hostedInvoiceUrl: 'javascript:alert(1)', invoicePdfUrl: 'data:text/html,<script>alert(1)</script>' }),
      );
      expect(`${text}${html}`).not.toMatch(/javascript:|data:/);
      expect(html).not.toContain('<a ');
    });

    it('keeps injected markup and line breaks out of every part', () => {
      const evil = invoice({
        customerName: '<script>alert(1)</script> Evil\r\nBcc: x@y.z',
        number: 'INV-7\r\nBcc: x@y.z',
      });
      const { subject, text, html } = renderNotice({
        kind,
        sequence: 2,
        invoice: evil,
        nowSeconds: DUE + 5 * DAY,
        companyName: 'Acme\r\nX-Spam: 1',
        ...paymentFor(kind),
      });
      expect(subject).not.toMatch(/[\r\n]/);
      expect(subject).toContain('INV-7 Bcc: x@y.z');
      expect(html).not.toContain('<script');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Evil Bcc: x@y.z');
      expect(text).toContain('Hello <script>alert(1)</script> Evil Bcc: x@y.z,');
      for (const body of [text, html]) {
        expect(body).not.toContain('\r');
        expect(body).not.toMatch(/Evil\s*\n|\n\s*Bcc:|INV-7\s*\n|Acme\s*\n\s*X-Spam/);
        expect(body).toContain('INV-7 Bcc: x@y.z');
        expect(body).toContain('Acme X-Spam: 1');
      }
    });
  });

  describe('invoice_issued', () => {
    it('states the amount due and due date, with pay and PDF links', () => {
      const { subject, text, html } = render('invoice_issued', invoice());
      expect(subject).toBe('Invoice INV-0001 from Acme Corp: $10.00 due January 5, 2027');
      expect(text).toContain('Acme Corp has sent you invoice INV-0001.');
      expect(text).toContain('Amount due: $10.00\nDue date: January 5, 2027\n');
      expect(text).toContain(`Pay now: ${PAY_URL}\n`);
      expect(text).toContain(`Download PDF: ${PDF_URL}\n`);
      expect(hrefs(html)).toEqual([PAY_URL, PDF_URL]);
      expect(decode(html)).toContain('>Pay now</a>');
      expect(decode(html)).toContain('>Download PDF</a>');
      expect(html).toContain('<strong>Amount due:</strong> $10.00');
    });

    it('omits the PDF link when there is no PDF', () => {
      const { text, html } = render('invoice_issued', invoice({ invoicePdfUrl: null }));
      expect(text).not.toContain('Download PDF');
      expect(html).not.toContain('Download PDF');
      expect(hrefs(html)).toEqual([PAY_URL]);
    });

    it('omits the due date when there is none', () => {
      const { subject, text, html } = render('invoice_issued', invoice({ dueDate: null, collectionMethod: 'charge_automatically' }));
      expect(subject).toBe('Invoice INV-0001 from Acme Corp: $10.00 due');
      expect(text).not.toContain('Due date');
      expect(html).not.toContain('Due date');
    });

    it('shows zero-decimal currencies unscaled', () => {
      const jpy = invoice({ currency: 'jpy', amountCents: 100, amountRemainingCents: 100, totalCents: 100 });
      const { subject, text, html } = render('invoice_issued', jpy);
      expect(subject).toBe('Invoice INV-0001 from Acme Corp: ¥100 due January 5, 2027');
      expect(text).toContain('Amount due: ¥100\n');
      expect(html).toContain('¥100');
      expect(`${subject}${text}${html}`).not.toContain('¥1.00');
    });

    it('falls back to the Stripe invoice id without a number', () => {
      const { subject, text } = render('invoice_issued', invoice({ number: null }));
      expect(subject).toBe('Invoice in_1Render from Acme Corp: $10.00 due January 5, 2027');
      expect(text).toContain('sent you invoice in_1Render.');
    });

    it('greets "there" without a customer name and names the email in the footer', () => {
      const { text, html } = render('invoice_issued', invoice({ customerName: null }));
      expect(text).toMatch(/^Hello there,\n/);
      expect(html).toContain('Hello there,');
      expect(text).toContain('billing contact for jane@example.com.');

      const blank = render('invoice_issued', invoice({ customerName: ' \r\n ', customerEmail: null }));
      expect(blank.text).toMatch(/^Hello there,\n/);
      expect(blank.text).toContain('billing contact for this account.');
    });

    it('escapes customer text in HTML but shows it raw in the text body', () => {
      const { text, html } = render('invoice_issued', invoice({ customerName: `Ann & Bob's "Shop"` }));
      expect(text).toContain(`Hello Ann & Bob's "Shop",`);
      expect(html).toContain('Hello Ann &amp; Bob&#39;s &quot;Shop&quot;,');
    });
  });

  describe('payment_failed', () => {
    const failed = invoice({ attemptCount: 3, amountCents: 2500, amountRemainingCents: 2500, totalCents: 2500 });

    it('states the attempt, the amount, what to do and the pay link', () => {
      const { subject, text, html } = render('payment_failed', failed, DUE - 10 * DAY, 3);
      expect(subject).toBe('Payment failed for invoice INV-0001 from Acme Corp');
      expect(text).toContain('Payment attempt 3 for invoice INV-0001 from Acme Corp failed.');
      expect(text).toContain('Amount due: $25.00');
      expect(text).toContain('Please update your payment method or pay the invoice using the link below.');
      expect(text).toContain(`Pay now: ${PAY_URL}`);
      expect(html).toContain('Payment attempt 3');
      expect(hrefs(html)).toEqual([PAY_URL]);
    });

    it('names the queued attempt even if the invoice has moved on', () => {
      expect(render('payment_failed', invoice({ attemptCount: 4 }), DUE, 2).text).toContain('Payment attempt 2 ');
      expect(render('payment_failed', invoice({ attemptCount: 4 }), DUE, 0).text).toContain('Payment attempt 4 ');
    });

    it('says whom to contact when there is no pay link', () => {
      const { text } = render('payment_failed', { ...failed, hostedInvoiceUrl: null }, DUE, 3);
      expect(text).toContain('Please update your payment method or contact Acme Corp to arrange payment.');
    });

    it('shows JPY unscaled', () => {
      const jpy = invoice({ currency: 'jpy', amountCents: 100, amountRemainingCents: 100, totalCents: 100 });
      expect(render('payment_failed', jpy, DUE, 1).text).toContain('Amount due: ¥100\n');
    });
  });

  describe('invoice_paid', () => {
    const paid = invoice({ status: 'paid', amountPaidCents: 1000, amountRemainingCents: 0, paidAt: PAID });

    it('is a receipt with the amount paid, payment date, number and invoice link', () => {
      const { subject, text, html } = render('invoice_paid', paid);
      expect(subject).toBe('Receipt for invoice INV-0001 from Acme Corp');
      expect(text).toContain('Invoice: INV-0001\nAmount paid: $10.00\nPayment date: January 3, 2027\n');
      expect(text).toContain(`View invoice: ${PAY_URL}`);
      expect(html).toContain('<strong>Amount paid:</strong> $10.00');
      expect(html).toContain('<strong>Payment date:</strong> January 3, 2027');
      expect(hrefs(html)).toEqual([PAY_URL, PDF_URL]);
    });

    it('omits the payment date when unknown', () => {
      expect(render('invoice_paid', { ...paid, paidAt: null }).text).not.toContain('Payment date');
    });

    it("links the charge's receipt first when it is known, the invoice and PDF after it", () => {
      const { text, html } = render('invoice_paid', paid, DUE, 0, undefined, { receiptUrl: RECEIPT_URL });
      expect(text).toContain(`Payment date: January 3, 2027\n\nReceipt: ${RECEIPT_URL}\n\nView invoice: ${PAY_URL}\n\nDownload PDF: ${PDF_URL}\n`);
      expect(hrefs(html)).toEqual([RECEIPT_URL, PAY_URL, PDF_URL]);
      expect(decode(html)).toContain('>View receipt</a>');
      expect(decode(html)).toContain('>View invoice</a>');
    });

    it('goes without the receipt link when the charge is not known, or its URL is no web URL', () => {
      for (const receiptUrl of [null, 'javascript:alert(1)', 'data:text/html,<b>x</b>', 'ftp://pay.stripe.com/r', 'not a url']) {
        const { text, html } = render('invoice_paid', paid, DUE, 0, undefined, { receiptUrl });
        expect(text).not.toContain('Receipt:');
        expect(`${text}${html}`).not.toMatch(/javascript:|data:|ftp:|not a url/);
        expect(hrefs(html)).toEqual([PAY_URL, PDF_URL]);
      }
    });

    it('escapes the receipt URL in the HTML like every other link', () => {
      const odd = `https://pay.stripe.com/receipts/x?a=1&b="><script>alert(1)</script>`;
      const { text, html } = render('invoice_paid', paid, DUE, 0, undefined, { receiptUrl: odd });
      expect(html).not.toContain('<script');
      // The attribute ends where the URL does: nothing of it reaches the markup around.
      expect(html).toMatch(/<a href="https:\/\/pay\.stripe\.com\/receipts\/x\?a=1&amp;b=[^"<>]*" style="/);
      const href = hrefs(html)[0]!;
      expect(new URL(href).searchParams.get('b')).toBe('"><script>alert(1)</script>');
      expect(html).toContain('href="https://pay.stripe.com/receipts/x?a=1&amp;b=');
      expect(text).toContain(`Receipt: ${new URL(odd).href}\n`);
    });

    it('shows JPY unscaled', () => {
      const jpy = { ...paid, currency: 'jpy', amountCents: 100, amountPaidCents: 100, totalCents: 100 };
      const { text, html } = render('invoice_paid', jpy);
      expect(text).toContain('Amount paid: ¥100\n');
      expect(html).not.toContain('¥1.00');
    });
  });

  describe('due_soon', () => {
    it('reminds of the due date and the days left, with a pay link', () => {
      const { subject, text, html } = render('due_soon', invoice(), DUE - 3 * DAY + 3600);
      expect(subject).toBe('Invoice INV-0001 is due in 3 days');
      expect(text).toContain('invoice INV-0001 from Acme Corp is due on January 5, 2027 (in 3 days).');
      expect(text).toContain('Amount due: $10.00');
      expect(text).toContain(`Pay now: ${PAY_URL}`);
      expect(html).toContain('is due on January 5, 2027 (in 3 days).');
      expect(hrefs(html)).toEqual([PAY_URL]);
    });

    it('counts calendar days in UTC: "tomorrow" the day before, "today" on the day', () => {
      expect(render('due_soon', invoice(), DUE - 2 * DAY).subject).toBe('Invoice INV-0001 is due in 2 days');
      expect(render('due_soon', invoice(), DUE - DAY - 1).subject).toBe('Invoice INV-0001 is due in 2 days');
      expect(render('due_soon', invoice(), DUE - DAY).subject).toBe('Invoice INV-0001 is due tomorrow');
      expect(render('due_soon', invoice(), DUE - 3600).subject).toBe('Invoice INV-0001 is due tomorrow');
      expect(render('due_soon', invoice(), DUE).subject).toBe('Invoice INV-0001 is due today');
      expect(render('due_soon', invoice(), DUE - 3600).text).toContain('is due on January 5, 2027 (tomorrow).');
    });

    it('says "today" for an invoice due later the same UTC day, not "in 1 day"', () => {
      // Due at 23:59:59 UTC, read at 23:59:44: due in 15 seconds, on the same day.
      const late = invoice({ dueDate: DUE + DAY - 1 });
      expect(render('due_soon', late, DUE + DAY - 16).subject).toBe('Invoice INV-0001 is due today');
      expect(render('due_soon', late, DUE + 1).text).toContain('is due on January 5, 2027 (today).');
    });

    it('still reads without a due date', () => {
      const { subject, text } = render('due_soon', invoice({ dueDate: null }));
      expect(subject).toBe('Invoice INV-0001 is due soon');
      expect(text).toContain('from Acme Corp is due soon.');
    });
  });

  describe('overdue', () => {
    const partlyPaid = invoice({ amountPaidCents: 600, amountRemainingCents: 400 });

    it('states the days overdue and the amount remaining, with a pay link', () => {
      const { subject, text, html } = render('overdue', partlyPaid, DUE + 5 * DAY + 7200);
      expect(subject).toBe('Invoice INV-0001 is 5 days overdue');
      expect(text).toContain('Invoice INV-0001 from Acme Corp is 5 days overdue.');
      expect(text).toContain('Amount remaining: $4.00\nDue date: January 5, 2027\n');
      expect(text).toContain(`Pay overdue invoice: ${PAY_URL}`);
      expect(decode(html)).toContain('>Pay overdue invoice</a>');
      expect(hrefs(html)).toEqual([PAY_URL]);
    });

    it('counts days overdue in UTC calendar days, as finance_invoices.days_overdue does: at least 1 once the due moment has passed', () => {
      expect(render('overdue', partlyPaid, DUE + DAY + 1).subject).toBe('Invoice INV-0001 is 1 day overdue');
      expect(render('overdue', partlyPaid, DUE + 2 * DAY - 1).subject).toBe('Invoice INV-0001 is 1 day overdue');
      expect(render('overdue', partlyPaid, DUE + 2 * DAY).subject).toBe('Invoice INV-0001 is 2 days overdue');
      expect(render('overdue', partlyPaid, DUE + 3600).subject).toBe('Invoice INV-0001 is 1 day overdue');
      expect(render('overdue', partlyPaid, DUE).subject).toBe('Invoice INV-0001 is overdue');
      expect(render('overdue', partlyPaid, DUE - DAY).subject).toBe('Invoice INV-0001 is overdue');
    });

    it('shows JPY unscaled', () => {
      const jpy = invoice({ currency: 'jpy', amountCents: 300, amountPaidCents: 200, amountRemainingCents: 100, totalCents: 300 });
      expect(render('overdue', jpy, DUE + 5 * DAY).text).toContain('Amount remaining: ¥100\n');
    });
  });

  describe('overdue_reminder', () => {
    it('states which reminder it is and the days overdue', () => {
      const { subject, text, html } = render('overdue_reminder', invoice(), DUE + 12 * DAY, 2, 2);
      expect(subject).toBe('Reminder: invoice INV-0001 is 12 days overdue');
      expect(text).toContain('This is our 2nd reminder: invoice INV-0001 from Acme Corp is 12 days overdue.');
      expect(text).toContain('Amount remaining: $10.00');
      expect(text).toContain(`Pay overdue invoice: ${PAY_URL}`);
      expect(html).toContain('This is our 2nd reminder');
      expect(hrefs(html)).toEqual([PAY_URL]);
    });

    it.each([
      [2, '2nd'],
      [3, '3rd'],
      [4, '4th'],
      [11, '11th'],
      [21, '21st'],
    ])('calls reminder %d the %s', (n, ordinal) => {
      expect(render('overdue_reminder', invoice(), DUE + 30 * DAY, 5, n).text).toContain(`our ${ordinal} reminder`);
    });

    it('names no ordinal in the first reminder the recipient gets, whatever its place in the schedule', () => {
      // First seen 70 days late: the schedule is at its 9th weekly reminder; the recipient has had none.
      const { subject, text, html } = render('overdue_reminder', invoice(), DUE + 70 * DAY, 9, 1);
      expect(subject).toBe('Invoice INV-0001 is 70 days overdue');
      expect(text).toContain('Invoice INV-0001 from Acme Corp is 70 days overdue.');
      expect(text).not.toMatch(/reminder:/);
      expect(text).not.toContain('9th');
      expect(html).not.toContain('9th');
      expect(decode(html)).toContain('Invoice INV-0001 from Acme Corp is 70 days overdue.');
    });
  });

  describe('invoice_voided', () => {
    it('says the invoice was voided and nothing is owed', () => {
      const voided = invoice({ status: 'void', amountRemainingCents: 0, voidedAt: DUE - DAY });
      const { subject, text, html } = render('invoice_voided', voided);
      expect(subject).toBe('Invoice INV-0001 has been voided');
      expect(text).toContain('Invoice INV-0001 from Acme Corp for $10.00 has been voided. No payment is required.');
      expect(html).toContain('No payment is required.');
      expect(hrefs(html)).toEqual([PAY_URL]);
    });
  });

  describe('refund_issued', () => {
    const paid = invoice({ status: 'paid', amountPaidCents: 1000, amountRemainingCents: 0, paidAt: PAID });

    it('states the amount refunded and the invoice, with the receipt link', () => {
      const { subject, text, html } = render('refund_issued', paid, DUE, 0, undefined, { receiptUrl: RECEIPT_URL, refunded: { amountCents: 300, currency: 'usd' } });
      expect(subject).toBe('Refund of $3.00 for invoice INV-0001 from Acme Corp');
      expect(text).toContain('Acme Corp has issued a refund of $3.00 for invoice INV-0001.');
      expect(text).toContain(`Invoice: INV-0001\nAmount refunded: $3.00\n\nReceipt: ${RECEIPT_URL}\n`);
      expect(text).not.toContain('View invoice');
      expect(html).toContain('<strong>Amount refunded:</strong> $3.00');
      expect(hrefs(html)).toEqual([RECEIPT_URL]);
      expect(decode(html)).toContain('>View receipt</a>');
    });

    it('links the invoice page instead when the charge has no receipt', () => {
      const { text, html } = render('refund_issued', paid, DUE, 0, undefined, { receiptUrl: 'javascript:alert(1)', refunded: { amountCents: 300, currency: 'usd' } });
      expect(text).toContain(`View invoice: ${PAY_URL}\n`);
      expect(text).not.toMatch(/Receipt:|javascript:/);
      expect(hrefs(html)).toEqual([PAY_URL]);
    });

    it("formats the refund in the charge's currency, zero-decimal ones unscaled", () => {
      const { subject, text } = render('refund_issued', paid, DUE, 0, undefined, { receiptUrl: null, refunded: { amountCents: 500, currency: 'jpy' } });
      expect(subject).toBe('Refund of ¥500 for invoice INV-0001 from Acme Corp');
      expect(text).toContain('Amount refunded: ¥500\n');
    });

    it('refuses to render without the amount refunded', () => {
      expect(() => renderNotice({ kind: 'refund_issued', sequence: 0, invoice: paid, nowSeconds: DUE, companyName: 'Acme Corp' })).toThrow(/amount refunded/);
    });
  });

  it('refuses an invoice without a currency', () => {
    expect(() => render('invoice_issued', invoice({ currency: null }))).toThrow(/in_1Render has no currency/);
  });

  it('refuses an unknown kind', () => {
    expect(() => render('refund' as NoticeKind, invoice())).toThrow(/unknown notice kind/);
  });
});
