import fc from 'fast-check';
import type { InvoiceState, InvoiceStatus } from '../../src/billing/invoice-state';
import { NOTICE_KINDS, type NoticeKind, type NoticeStatus, type OutboxNotice } from '../../src/billing/notice-kinds';
import type { Contact } from '../../src/billing/contact';
import { chooseRecipient, decideDelivery, reminderNumber, retryDelaySeconds, type Delivery, type OutboxContext } from '../../src/mail/delivery';
import { openInvoiceState } from '../support/invoice-state';

const NOW = Date.UTC(2027, 0, 20) / 1000;
const DAY = 86_400;

function invoice(overrides: Partial<InvoiceState> = {}): InvoiceState {
  return openInvoiceState(NOW - 2 * DAY, {
    stripeInvoiceId: 'in_1DeliveryTest01',
    stripeCustomerId: 'cus_Delivery',
    customerEmail: 'invoice@example.com',
    stripeCreatedAt: NOW - 40 * DAY,
    finalizedAt: NOW - 30 * DAY,
    lastEventId: 'evt_1Delivery',
    lastEventCreatedAt: NOW - DAY,
    ...overrides,
  });
}

/** Each status as the merge would leave the row, so that amounts agree with the status. */
const byStatus: Record<Exclude<InvoiceStatus, 'draft'>, InvoiceState> = {
  open: invoice(),
  uncollectible: invoice({ status: 'uncollectible', markedUncollectibleAt: NOW - DAY }),
  paid: invoice({ status: 'paid', amountPaidCents: 1000, amountRemainingCents: 0, paidAt: NOW - DAY }),
  void: invoice({ status: 'void', voidedAt: NOW - DAY }),
};
type Status = keyof typeof byStatus;

const SEND: Delivery = { action: 'send' };
/** The notice was queued a minute ago, and is the invoice's only one. */
const ALONE: OutboxContext = { others: [] };
let ids = 0;
const other = (kind: NoticeKind, status: NoticeStatus, o: Partial<OutboxNotice> = {}): OutboxNotice => ({
  id: String(++ids),
  kind,
  sequence: 0,
  status,
  queuedAt: NOW - 2 * DAY,
  sentAt: status === 'sent' ? NOW - 2 * DAY : null,
  lastError: null,
  recipient: status === 'sent' ? 'invoice@example.com' : null,
  ...o,
});
const withOthers = (...others: OutboxNotice[]): OutboxContext => ({ others });
const skip = (reason: string): Delivery => ({ action: 'skip', reason });
/** For reasons the rules do not spell out: only their prefix is checked. */
const skipMatching = (pattern: RegExp): Delivery => ({ action: 'skip', reason: expect.stringMatching(pattern) });

const SETTLED_SKIPS: Record<Status, Delivery> = { open: SEND, uncollectible: SEND, paid: skip('already_paid'), void: skip('already_void') };
const DUNNING_EXPECTED: Record<Status, Delivery> = {
  open: SEND,
  uncollectible: skipMatching(/^no_longer_due/),
  paid: skip('already_paid'),
  void: skip('already_void'),
};

/** Every kind except invoice_voided (whose outcome also depends on invoice_issued) × every issued status. */
const matrix: [NoticeKind, Status, Delivery][] = [];
for (const status of Object.keys(byStatus) as Status[]) {
  matrix.push(['invoice_issued', status, SETTLED_SKIPS[status]]);
  matrix.push(['payment_failed', status, SETTLED_SKIPS[status]]);
  for (const kind of ['overdue', 'overdue_reminder'] as const) matrix.push([kind, status, DUNNING_EXPECTED[status]]);
  // The invoice is two days past due: "due soon" is no longer true.
  matrix.push(['due_soon', status, status === 'open' ? skip('past_due') : DUNNING_EXPECTED[status]]);
  matrix.push(['invoice_paid', status, status === 'paid' ? SEND : skipMatching(/^not_paid/)]);
}

describe('decideDelivery', () => {
  it.each(matrix)('%s on a %s invoice', (kind, status, expected) => {
    expect(decideDelivery(kind, byStatus[status], ALONE, NOW)).toEqual(expected);
  });

  it.each(['due_soon', 'overdue', 'overdue_reminder'] as const)('%s is not sent for an open invoice with nothing left to pay', (kind) => {
    expect(decideDelivery(kind, invoice({ amountPaidCents: 1000, amountRemainingCents: 0 }), ALONE, NOW)).toEqual(skipMatching(/^no_longer_due/));
  });

  it.each(['overdue', 'overdue_reminder'] as const)('%s is still sent for a partly paid open invoice', (kind) => {
    expect(decideDelivery(kind, invoice({ amountPaidCents: 400, amountRemainingCents: 600 }), ALONE, NOW)).toEqual(SEND);
  });

  it('due_soon goes out until the due moment and never after it', () => {
    const due = (dueDate: number) => invoice({ dueDate, amountPaidCents: 400, amountRemainingCents: 600 });
    expect(decideDelivery('due_soon', due(NOW + DAY), ALONE, NOW)).toEqual(SEND);
    expect(decideDelivery('due_soon', due(NOW), ALONE, NOW)).toEqual(SEND);
    expect(decideDelivery('due_soon', due(NOW - 1), ALONE, NOW)).toEqual(skip('past_due'));
  });

  describe('invoice_voided', () => {
    const told: [string, OutboxContext, Delivery][] = [
      ['its invoice email was sent', withOthers(other('invoice_issued', 'sent')), SEND],
      ['its invoice email is on its way', withOthers(other('invoice_issued', 'pending')), { action: 'defer', untilSeconds: NOW + 60 }],
      ['its invoice email failed', withOthers(other('invoice_issued', 'failed')), skip('never_issued_to_customer')],
      ['its invoice email was skipped', withOthers(other('invoice_issued', 'skipped', { lastError: 'stale' })), skip('never_issued_to_customer')],
      ['nothing was queued', ALONE, skip('never_issued_to_customer')],
      // Imported: the customer heard of the invoice from whoever billed before.
      ['it was imported', withOthers(other('invoice_issued', 'skipped', { lastError: 'imported' })), SEND],
      // First seen overdue: the overdue email told them instead of the invoice email.
      ['the overdue email told them', withOthers(other('invoice_issued', 'skipped', { lastError: 'replaced_by_overdue' }), other('overdue', 'sent')), SEND],
    ];
    it.each(told)('on a void invoice when %s', (_label, ctx, expected) => {
      expect(decideDelivery('invoice_voided', byStatus.void, ctx, NOW)).toEqual(expected);
    });

    it('defers to a moment after now, so the issued email can go first', () => {
      const d = decideDelivery('invoice_voided', byStatus.void, withOthers(other('invoice_issued', 'pending')), NOW);
      expect(d.action === 'defer' && d.untilSeconds > NOW).toBe(true);
    });

    it.each(['open', 'uncollectible', 'paid'] as const)('is never sent for a %s invoice', (status) => {
      for (const ctx of [withOthers(other('invoice_issued', 'sent')), withOthers(other('invoice_issued', 'pending')), ALONE]) {
        expect(decideDelivery('invoice_voided', byStatus[status], ctx, NOW)).toEqual(skipMatching(/^not_void/));
      }
    });
  });

  describe('invoice_paid waits for the receipt link of its charge', () => {
    const queuedAt = NOW - 30;
    const receipt = (url: string | null, awaited: boolean, waitUntil = queuedAt + 120): OutboxContext => ({ others: [], receipt: { url, awaited, waitUntil } });

    it('goes at once with the receipt when the charge is known', () => {
      expect(decideDelivery('invoice_paid', byStatus.paid, receipt('https://pay.stripe.com/receipts/x', false), NOW)).toEqual(SEND);
    });

    it('waits until RECEIPT_WAIT_SECONDS after it was queued while the charge may still come, then goes without it', () => {
      const ctx = receipt(null, true);
      expect(decideDelivery('invoice_paid', byStatus.paid, ctx, NOW)).toEqual({ action: 'defer', untilSeconds: queuedAt + 120 });
      expect(decideDelivery('invoice_paid', byStatus.paid, ctx, queuedAt + 119)).toEqual({ action: 'defer', untilSeconds: queuedAt + 120 });
      expect(decideDelivery('invoice_paid', byStatus.paid, ctx, queuedAt + 120)).toEqual(SEND);
    });

    it('does not wait when no charge is coming, or with no wait set', () => {
      expect(decideDelivery('invoice_paid', byStatus.paid, receipt(null, false), NOW)).toEqual(SEND);
      expect(decideDelivery('invoice_paid', byStatus.paid, receipt(null, true, queuedAt), NOW)).toEqual(SEND);
      expect(decideDelivery('invoice_paid', byStatus.paid, ALONE, NOW)).toEqual(SEND);
    });

    it('a receipt no longer true is skipped, not held for its charge', () => {
      expect(decideDelivery('invoice_paid', byStatus.open, receipt(null, true), NOW)).toEqual(skipMatching(/^not_paid/));
    });
  });

  describe('refund_issued', () => {
    const holds: OutboxContext = { others: [], refund: { holds: true } };

    it.each(Object.keys(byStatus) as Status[])('goes at once, as news, on a %s invoice, also right after another email', (status) => {
      expect(decideDelivery('refund_issued', byStatus[status], holds, NOW)).toEqual(SEND);
      const justSent = { ...holds, others: [other('invoice_paid', 'sent', { sentAt: NOW - 60 })] };
      expect(decideDelivery('refund_issued', byStatus[status], justSent, NOW)).toEqual(SEND);
    });

    it('is skipped with the reason when the refund failed or was canceled since it was queued', () => {
      expect(decideDelivery('refund_issued', byStatus.paid, { others: [], refund: { holds: false, reason: 'refund_failed' } }, NOW)).toEqual(skip('refund_failed'));
      expect(decideDelivery('refund_issued', byStatus.paid, ALONE, NOW)).toEqual(skip('refund_unknown'));
    });

    it('waits behind a receipt of its invoice still on its way, never ahead of it', () => {
      const behind = { ...holds, others: [other('invoice_paid', 'pending')] };
      expect(decideDelivery('refund_issued', byStatus.paid, behind, NOW)).toEqual({ action: 'defer', untilSeconds: NOW + 60 });
      for (const status of ['sent', 'skipped', 'failed'] as const) {
        expect(decideDelivery('refund_issued', byStatus.paid, { ...holds, others: [other('invoice_paid', status)] }, NOW)).toEqual(SEND);
      }
    });
  });

  describe('no two emails about one invoice within a day, unless the second is news', () => {
    const sentAt = NOW - 2 * 3600;
    const earlier = withOthers(other('payment_failed', 'sent', { queuedAt: sentAt - 60, sentAt }));
    it.each(['overdue', 'overdue_reminder', 'invoice_issued'] as const)('%s waits until a day after the last email', (kind) => {
      expect(decideDelivery(kind, invoice(), earlier, NOW)).toEqual({ action: 'defer', untilSeconds: sentAt + DAY });
      expect(decideDelivery(kind, invoice(), earlier, sentAt + DAY)).toEqual(SEND);
    });

    it.each(['payment_failed', 'invoice_paid', 'invoice_voided'] as const)('%s is news and goes at once', (kind) => {
      const inv = kind === 'invoice_paid' ? byStatus.paid : kind === 'invoice_voided' ? byStatus.void : invoice();
      expect(decideDelivery(kind, inv, withOthers(other('overdue', 'sent', { queuedAt: sentAt - 60, sentAt })), NOW)).toEqual(SEND);
    });

    it('holds a reminder after news sent the same day, whichever was queued first: the second email is not news', () => {
      const newsFirst = withOthers(other('payment_failed', 'sent', { queuedAt: NOW - 60, sentAt: NOW - 30 }));
      expect(decideDelivery('overdue', invoice(), newsFirst, NOW)).toEqual({ action: 'defer', untilSeconds: NOW - 30 + DAY });
    });

    it('counts only emails that went out: skipped, failed and pending notices hold nothing back', () => {
      const notSent = withOthers(
        other('invoice_issued', 'skipped', { lastError: 'imported', queuedAt: NOW - 60 }),
        other('payment_failed', 'failed'),
        other('overdue', 'pending'),
      );
      expect(decideDelivery('overdue_reminder', invoice(), notSent, NOW)).toEqual(SEND);
    });
  });

  describe('a notice no longer true', () => {
    it('a notice that is no longer true is skipped rather than held', () => {
      const earlier = withOthers(other('payment_failed', 'sent', { sentAt: NOW - 60 }));
      expect(decideDelivery('overdue', byStatus.paid, earlier, NOW)).toEqual(skip('already_paid'));
    });
  });

  // A row never returns to draft, so only kinds whose outcome does not hinge on that are pinned.
  it.each<[NoticeKind, RegExp]>([
    ['due_soon', /^no_longer_due/],
    ['overdue', /^no_longer_due/],
    ['overdue_reminder', /^no_longer_due/],
    ['invoice_paid', /^not_paid/],
    ['invoice_voided', /^not_void/],
  ])('%s on a draft invoice is skipped', (kind, reason) => {
    expect(decideDelivery(kind, invoice({ status: 'draft', finalizedAt: null }), withOthers(other('invoice_issued', 'sent')), NOW)).toEqual(skipMatching(reason));
  });

  it.each([...NOTICE_KINDS])('%s: a missing invoice is skipped', (kind) => {
    expect(decideDelivery(kind, null, withOthers(other('invoice_issued', 'sent')), NOW)).toEqual(skip('invoice_missing'));
  });

  it.each([...NOTICE_KINDS])('%s: a deleted invoice is skipped, whatever its status', (kind) => {
    for (const status of Object.keys(byStatus) as Status[]) {
      expect(decideDelivery(kind, { ...byStatus[status], deletedAt: NOW - DAY }, withOthers(other('invoice_issued', 'sent')), NOW)).toEqual(skip('invoice_deleted'));
    }
  });
});

describe('reminderNumber', () => {
  const to = (recipient: string, kind: NoticeKind = 'overdue', status: NoticeStatus = 'sent') => other(kind, status, { recipient });
  it('counts the reminders actually sent to this recipient, and no others', () => {
    expect(reminderNumber([], 'ap@example.com')).toBe(1);
    expect(reminderNumber([to('ap@example.com')], 'ap@example.com')).toBe(2);
    expect(reminderNumber([to('ap@example.com', 'due_soon'), to('ap@example.com'), to('ap@example.com', 'overdue_reminder')], 'ap@example.com')).toBe(4);
    // Not sent (skipped, imported, failed), sent elsewhere, or not a reminder: not counted.
    const notCounted = [
      other('overdue_reminder', 'skipped', { lastError: 'imported', sequence: 5 }),
      other('overdue', 'failed', { recipient: 'ap@example.com' }),
      to('old@example.com'),
      to('ap@example.com', 'invoice_issued'),
      to('ap@example.com', 'payment_failed'),
    ];
    expect(reminderNumber(notCounted, 'ap@example.com')).toBe(1);
  });
});

describe('chooseRecipient', () => {
  const contact = (invoiceEmail: string | null, primaryEmail: string | null): Contact => ({ invoiceEmail, primaryEmail });
  const withEmail = (customerEmail: string | null) => invoice({ customerEmail });

  it.each<[string, Contact | null, string | null, string | null]>([
    ['the invoice contact first', contact('ap@example.com', 'owner@example.com'), 'invoice@example.com', 'ap@example.com'],
    ['the invoice address when the contact has no invoice email', contact(null, 'owner@example.com'), 'invoice@example.com', 'invoice@example.com'],
    ['the invoice address when there is no contact', null, 'invoice@example.com', 'invoice@example.com'],
    ['the primary contact when the invoice has no address', contact(null, 'owner@example.com'), null, 'owner@example.com'],
    ['the primary contact when the other two are empty strings', contact('', 'owner@example.com'), '', 'owner@example.com'],
    ['nobody when there is no address at all', contact(null, null), null, null],
    ['nobody without a contact or invoice address', null, null, null],
    ['past an invalid invoice contact', contact('not-an-address', 'owner@example.com'), 'invoice@example.com', 'invoice@example.com'],
    ['past an empty invoice contact', contact('', 'owner@example.com'), 'invoice@example.com', 'invoice@example.com'],
    ['past an invalid invoice address', contact(null, 'owner@example.com'), 'jane at example.com', 'owner@example.com'],
    ['past a display-name form', contact('Jane <ap@example.com>', null), 'invoice@example.com', 'invoice@example.com'],
    ['past a list of addresses', contact('ap@example.com, evil@example.net', null), 'invoice@example.com', 'invoice@example.com'],
    ['nobody when every address is invalid', contact('x@', '@y.com'), 'z', null],
    // A line break would let the address write its own headers (Bcc: …) into the message.
    ['past a CRLF-injected invoice contact', contact('ap@example.com\r\nBcc: evil@example.net', 'owner@example.com'), 'invoice@example.com', 'invoice@example.com'],
    ['past an LF-injected invoice address', contact(null, 'owner@example.com'), 'invoice@example.com\nBcc: evil@example.net', 'owner@example.com'],
    ['past a bare CR', contact('ap@example.com\r', null), null, null],
    ['past a trailing CRLF on the primary contact', contact(null, 'owner@example.com\r\n'), null, null],
    ['trimmed, domain lowercased', contact('  AP.Team@Example.COM ', null), null, 'AP.Team@example.com'],
  ])('%s', (_label, c, customerEmail, expected) => {
    expect(chooseRecipient(c, withEmail(customerEmail))).toBe(expected);
  });
});

describe('retryDelaySeconds', () => {
  it.each<[number, number, number]>([
    [1, 300, 1],
    [2, 300, 2],
    [3, 300, 4],
    [4, 300, 8],
    [9, 300, 256],
    [10, 300, 300],
    [11, 300, 300],
    [0, 300, 1],
    [1, 1, 1],
    [5, 1, 1],
    [60, 86400, 86400],
    // Far past the cap, 2 ** n is Infinity; the cap must still win, never NaN or Infinity.
    [5000, 300, 300],
  ])('after %i failed attempts (cap %i s): %i s', (attempts, cap, expected) => {
    expect(retryDelaySeconds(attempts, cap)).toBe(expected);
  });

  it('doubles each attempt until it reaches the cap, then stays there', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 86400 }), (attempts, cap) => {
        const a = retryDelaySeconds(attempts, cap);
        const b = retryDelaySeconds(attempts + 1, cap);
        expect(Number.isInteger(a) && a >= 1 && a <= cap).toBe(true);
        expect(b).toBe(Math.min(2 * a, cap));
      }),
    );
  });
});
