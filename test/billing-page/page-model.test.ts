import type { PageInvoiceRow } from '../../src/db/billing-page';
import { actionsOf, limitOf, pageModel, pillOf } from '../../src/billing-page/page-model';

function row(o: Partial<PageInvoiceRow> & Pick<PageInvoiceRow, 'status'>): PageInvoiceRow {
  const id = o.invoice_id ?? `in_${o.status}`;
  const open = o.status === 'open';
  return {
    invoice_id: id,
    number: `INV-${id}`,
    customer_name: 'Acme',
    display_status: o.status,
    amount_due_cents: '2500',
    amount_paid_cents: o.status === 'paid' ? '2500' : '0',
    amount_remaining_cents: open ? '2500' : '0',
    amount_written_off_cents: o.status === 'uncollectible' ? '2500' : '0',
    stripe_amount_remaining_cents: o.status === 'paid' || o.status === 'void' ? '0' : '2500',
    currency: 'usd',
    due_date: null,
    days_overdue: 0,
    pay_url: open ? `https://invoice.stripe.com/i/${id}` : null,
    hosted_invoice_url: `https://invoice.stripe.com/i/${id}`,
    pdf_url: `https://pay.stripe.com/invoice/${id}/pdf`,
    receipt_url: o.status === 'paid' ? `https://pay.stripe.com/receipts/${id}` : null,
    created_at: new Date('2026-11-01T10:00:00Z'),
    finalized_at: new Date('2026-11-01T10:00:10Z'),
    paid_at: null,
    recipient_email: 'billing@acme.test',
    livemode: false,
    ...o,
  };
}

const kinds = (r: PageInvoiceRow, role: 'admin' | 'member' = 'admin') => actionsOf(r, role).map((a) => a.kind);

describe('the state table', () => {
  it.each([
    ['open, not past due', row({ status: 'open' }), 'Open', 'red', ['pay_now', 'download']],
    ['open, past due', row({ status: 'open', display_status: 'overdue', days_overdue: 3 }), 'Overdue', 'red', ['pay_overdue', 'download']],
    ['paid', row({ status: 'paid' }), 'Paid', 'green', ['download', 'receipt']],
    ['void', row({ status: 'void' }), 'Void', 'grey', ['download']],
    ['uncollectible', row({ status: 'uncollectible' }), 'Uncollectible', 'amber', ['pay_now', 'download']],
  ])('%s: pill and actions', (_name, r, label, tone, actions) => {
    expect(pillOf(r.status, r.display_status)).toEqual({ label, tone });
    expect(kinds(r)).toEqual(actions);
  });

  it('links only what exists: no receipt yet, no PDF, nothing left to pay', () => {
    expect(kinds(row({ status: 'paid', receipt_url: null, pdf_url: null }))).toEqual([]);
    expect(kinds(row({ status: 'open', pay_url: null }))).toEqual(['download']);
    expect(kinds(row({ status: 'uncollectible', stripe_amount_remaining_cents: '0' }))).toEqual(['download']);
    expect(kinds(row({ status: 'uncollectible', hosted_invoice_url: null }))).toEqual(['download']);
  });

  it('never links anything but https', () => {
    expect(kinds(row({ status: 'open', pay_url: 'javascript:alert(1)', pdf_url: 'http://pay.stripe.com/x' }))).toEqual([]);
  });

  it('gives a member the same page without Pay now and Pay overdue', () => {
    expect(kinds(row({ status: 'open' }), 'member')).toEqual(['download']);
    expect(kinds(row({ status: 'open', display_status: 'overdue' }), 'member')).toEqual(['download']);
    expect(kinds(row({ status: 'uncollectible' }), 'member')).toEqual(['download']);
    expect(kinds(row({ status: 'paid' }), 'member')).toEqual(['download', 'receipt']);
  });
});

describe('pageModel', () => {
  const base = { customerId: 'cus_1', accountId: null, role: 'admin' as const, locale: 'en', overdue: [], balances: [], contact: null };

  it('lists newest first as given, leaves drafts out, and says when there are more', () => {
    const rows = Array.from({ length: 21 }, (_, i) => row({ status: 'paid', invoice_id: `in_${i}` }));
    const m = pageModel({ ...base, invoices: [row({ status: 'draft' }), ...rows], limit: 20 });
    expect(m.invoices).toHaveLength(20);
    expect(m.invoices[0]!.id).toBe('in_0');
    expect(m.has_more).toBe(true);
    expect(m.next_limit).toBe(40);
    expect(pageModel({ ...base, invoices: rows.slice(0, 3), limit: 20 }).next_limit).toBeNull();
  });

  it('shows the wallet balance only when the customer has ledger entries', () => {
    const m = pageModel({
      ...base,
      invoices: [],
      limit: 20,
      balances: [
        { currency: 'usd', livemode: false, balance_cents: '0', owed_cents: '2500', open_invoices: 1, entries: 0, last_entry_at: null },
        { currency: 'jpy', livemode: false, balance_cents: '150000', owed_cents: '0', open_invoices: 0, entries: 2, last_entry_at: new Date() },
      ],
    });
    expect(m.overview[0]).toMatchObject({ currency: 'usd', wallet_balance: null, amount_due: { amount: '25.00', formatted: '$25.00' } });
    expect(m.overview[1]).toMatchObject({ currency: 'jpy', wallet_balance: { cents: '150000', amount: '150000', formatted: '¥150,000' } });
  });

  it('takes the contact from the latest invoice (the mailer\'s rule), else the billing contact', () => {
    expect(pageModel({ ...base, invoices: [row({ status: 'open' })], limit: 20 }).contact).toEqual({ invoice_email: 'billing@acme.test', editable: false });
    expect(pageModel({ ...base, invoices: [], limit: 20, contact: { name: 'Acme', contact_email: 'ap@acme.test' } }).contact.invoice_email).toBe('ap@acme.test');
  });

  it('writes the uncollectible amount as written off, not owed', () => {
    const [inv] = pageModel({ ...base, invoices: [row({ status: 'uncollectible' })], limit: 20 }).invoices;
    expect(inv!.amounts.remaining.cents).toBe('0');
    expect(inv!.amounts.written_off.cents).toBe('2500');
  });

  it.each([
    [undefined, 20],
    ['40', 40],
    ['41', 60],
    ['0', 20],
    ['99999', 20],
    ['5000', 500],
    ['abc', 20],
  ])('?limit=%p lists %p', (raw, n) => {
    expect(limitOf(raw)).toBe(n);
  });
});
