import fc from 'fast-check';
import type { InvoiceState } from '../../src/billing/invoice-state';
import { mergeInvoice } from '../../src/billing/merge';
import type { NoticeRequest } from '../../src/billing/notice-kinds';
import { noticesForChange } from '../../src/billing/notices';
import { snapshotFromEvent } from '../../src/billing/snapshot';
import {
  NOW,
  draftInvoice,
  finalize,
  invoiceEvent,
  isStub,
  lifecycle,
  markUncollectible,
  pay,
  permutationOf,
  voidInvoice,
  type DeletionStubJson,
  type InvoiceEventJson,
  type InvoiceJson,
} from './invoice-events';

const T0 = NOW - 20 * 86_400;
const ID = 'in_1NoticeTest0001';

// Events go through snapshotFromEvent and mergeInvoice, as in the consumer, so that `previous` and
// `next` are rows production could actually hold rather than hand-built ones.
let seq = 0;
const ev = (type: string, at: number, object: InvoiceJson | DeletionStubJson): InvoiceEventJson =>
  invoiceEvent(`evt_n${String(++seq).padStart(4, '0')}`, type, at, object);

function apply(previous: InvoiceState | null, event: InvoiceEventJson) {
  const snapshot = snapshotFromEvent(event);
  const next = mergeInvoice(previous, snapshot, NOW);
  return { next, notices: noticesForChange(previous, next, snapshot) };
}

/** The row after folding `events` in order. */
function rowAfter(...events: InvoiceEventJson[]): InvoiceState | null {
  let row: InvoiceState | null = null;
  for (const e of events) row = apply(row, e).next;
  return row;
}

const key = (n: NoticeRequest) => `${n.kind}#${n.sequence}`;

const draft = draftInvoice({ id: ID, created: T0 });
const open = finalize(draft, T0 + 10);
const failed1 = { ...open, attempt_count: 1 };
const failed3 = { ...open, attempt_count: 3 };
const paid = pay(open, T0 + 100);
const voided = voidInvoice(open, T0 + 100);
const uncollectible = markUncollectible(open, T0 + 50);
const stub: DeletionStubJson = { id: ID, object: 'invoice', deleted: true };

interface Case {
  name: string;
  before: InvoiceEventJson[];
  event: InvoiceEventJson;
  expected: string[];
}

const cases: Case[] = [
  // Drafts and deleted drafts
  { name: 'a new draft', before: [], event: ev('invoice.created', T0, draft), expected: [] },
  { name: 'an edited draft', before: [ev('invoice.created', T0, draft)], event: ev('invoice.updated', T0 + 1, { ...draft, metadata: { a: 'b' } }), expected: [] },
  { name: 'a draft deleted (full object)', before: [ev('invoice.created', T0, draft)], event: ev('invoice.deleted', T0 + 1, draft), expected: [] },
  { name: 'a deletion stub seen first', before: [], event: ev('invoice.deleted', T0 + 1, stub), expected: [] },
  { name: 'a draft event arriving after its deletion stub', before: [ev('invoice.deleted', T0 + 1, stub)], event: ev('invoice.created', T0, draft), expected: [] },
  { name: 'a draft snapshot on a payment_failed event', before: [], event: ev('invoice.payment_failed', T0, { ...draft, attempt_count: 1 }), expected: [] },

  // invoice_issued: exactly once, whatever the first non-draft event is
  { name: 'draft → open', before: [ev('invoice.created', T0, draft)], event: ev('invoice.finalized', T0 + 10, open), expected: ['invoice_issued#0'] },
  { name: 'first event seen is open', before: [], event: ev('invoice.finalized', T0 + 10, open), expected: ['invoice_issued#0'] },
  { name: 'first event seen is uncollectible', before: [], event: ev('invoice.marked_uncollectible', T0 + 50, uncollectible), expected: ['invoice_issued#0'] },
  { name: 'first event seen is paid', before: [], event: ev('invoice.paid', T0 + 100, paid), expected: ['invoice_issued#0', 'invoice_paid#0'] },
  { name: 'first event seen is void', before: [], event: ev('invoice.voided', T0 + 100, voided), expected: ['invoice_issued#0', 'invoice_voided#0'] },
  { name: 'open → open (invoice.sent)', before: [ev('invoice.finalized', T0 + 10, open)], event: ev('invoice.sent', T0 + 11, open), expected: [] },
  { name: 'the finalized event arriving again', before: [ev('invoice.finalized', T0 + 10, open)], event: ev('invoice.finalized', T0 + 10, open), expected: [] },
  {
    name: 'the finalized event arriving after paid (out of order)',
    before: [ev('invoice.paid', T0 + 100, paid)],
    event: ev('invoice.finalized', T0 + 10, open),
    expected: [],
  },

  // payment_failed: sequence is the snapshot's attempt_count
  { name: 'a first failed payment', before: [ev('invoice.finalized', T0 + 10, open)], event: ev('invoice.payment_failed', T0 + 20, failed1), expected: ['payment_failed#1'] },
  { name: 'a third failed payment', before: [ev('invoice.finalized', T0 + 10, open)], event: ev('invoice.payment_failed', T0 + 40, failed3), expected: ['payment_failed#3'] },
  {
    name: 'an older failed payment arriving after a newer one',
    before: [ev('invoice.finalized', T0 + 10, open), ev('invoice.payment_failed', T0 + 40, failed3)],
    event: ev('invoice.payment_failed', T0 + 20, failed1),
    expected: ['payment_failed#1'],
  },
  { name: 'a failed payment as the first event seen', before: [], event: ev('invoice.payment_failed', T0 + 20, failed1), expected: ['invoice_issued#0', 'payment_failed#1'] },
  {
    // The mailer skips it as already_paid; queueing it keeps the rule order-independent.
    name: 'a failed payment arriving after paid',
    before: [ev('invoice.paid', T0 + 100, paid)],
    event: ev('invoice.payment_failed', T0 + 20, failed1),
    expected: ['payment_failed#1'],
  },
  { name: 'an update carrying attempt_count (not a payment_failed event)', before: [ev('invoice.finalized', T0 + 10, open)], event: ev('invoice.updated', T0 + 21, failed1), expected: [] },

  // invoice_paid / invoice_voided: on the transition only
  { name: 'open → paid', before: [ev('invoice.finalized', T0 + 10, open)], event: ev('invoice.paid', T0 + 100, paid), expected: ['invoice_paid#0'] },
  { name: 'paid → paid (payment_succeeded)', before: [ev('invoice.finalized', T0 + 10, open), ev('invoice.paid', T0 + 100, paid)], event: ev('invoice.payment_succeeded', T0 + 100, paid), expected: [] },
  { name: 'uncollectible → paid', before: [ev('invoice.finalized', T0 + 10, open), ev('invoice.marked_uncollectible', T0 + 50, uncollectible)], event: ev('invoice.paid', T0 + 100, pay(uncollectible, T0 + 100)), expected: ['invoice_paid#0'] },
  { name: 'open → void', before: [ev('invoice.finalized', T0 + 10, open)], event: ev('invoice.voided', T0 + 100, voided), expected: ['invoice_voided#0'] },
  { name: 'void → void again', before: [ev('invoice.finalized', T0 + 10, open), ev('invoice.voided', T0 + 100, voided)], event: ev('invoice.voided', T0 + 100, voided), expected: [] },
  { name: 'uncollectible → void', before: [ev('invoice.finalized', T0 + 10, open), ev('invoice.marked_uncollectible', T0 + 50, uncollectible)], event: ev('invoice.voided', T0 + 100, voidInvoice(uncollectible, T0 + 100)), expected: ['invoice_voided#0'] },
  { name: 'open → uncollectible', before: [ev('invoice.finalized', T0 + 10, open)], event: ev('invoice.marked_uncollectible', T0 + 50, uncollectible), expected: [] },
];

describe('noticesForChange', () => {
  it.each(cases)('$name → $expected', ({ before, event, expected }) => {
    const { notices } = apply(rowAfter(...before), event);
    expect(notices.map(key).sort()).toEqual([...expected].sort());
  });

  it('takes the payment_failed sequence from the snapshot, not from the merged row', () => {
    // The row already holds attempt 3; the late snapshot's own count names its email.
    const previous = rowAfter(ev('invoice.finalized', T0 + 10, open), ev('invoice.payment_failed', T0 + 40, failed3));
    const { next, notices } = apply(previous, ev('invoice.payment_failed', T0 + 20, failed1));
    expect(next.attemptCount).toBe(3);
    expect(notices).toEqual([{ kind: 'payment_failed', sequence: 1 }]);
  });
});

/** What one invoice's whole history must have queued, read off the events themselves. */
function expectedNotices(events: InvoiceEventJson[]): Set<string> {
  const objects = events.map((e) => e.data.object);
  const deleted = events.some((e) => e.type === 'invoice.deleted');
  const full = objects.filter((o): o is InvoiceJson => !isStub(o));
  const out = new Set<string>();
  if (deleted) return out;
  if (full.some((o) => o.status !== 'draft')) out.add('invoice_issued#0');
  if (full.some((o) => o.status === 'paid')) out.add('invoice_paid#0');
  if (full.some((o) => o.status === 'void')) out.add('invoice_voided#0');
  for (const e of events) if (e.type === 'invoice.payment_failed' && !isStub(e.data.object)) out.add(`payment_failed#${e.data.object.attempt_count}`);
  return out;
}

describe('noticesForChange over whole lifecycles', () => {
  it('queues the same notices in any delivery order, with duplicates, and each one-off kind exactly once', () => {
    const scenario = lifecycle.chain((events) =>
      fc.record({
        events: fc.constant(events),
        // Re-deliveries: Stripe retries webhooks, so some events arrive two or three times.
        order: permutationOf(events).chain((perm) =>
          fc.array(fc.integer({ min: 1, max: 3 }), { minLength: perm.length, maxLength: perm.length }).map((times) => perm.flatMap((e, i) => Array<InvoiceEventJson>(times[i]!).fill(e))),
        ),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ events, order }) => {
        let row: InvoiceState | null = null;
        const pushed: string[] = [];
        for (const e of order) {
          const r = apply(row, e);
          row = r.next;
          pushed.push(...r.notices.map(key));
        }
        expect(new Set(pushed)).toEqual(expectedNotices(events));
        // The outbox would absorb repeats, but the one-off kinds must not depend on it.
        for (const once of ['invoice_issued#0', 'invoice_paid#0', 'invoice_voided#0']) {
          expect(pushed.filter((k) => k === once).length).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
