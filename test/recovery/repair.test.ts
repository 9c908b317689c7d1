/** Reconcile's pure half: Stripe's listed invoice against our row, no I/O. */
import type { InvoiceState } from '../../src/billing/invoice-state';
import { mergeInvoice } from '../../src/billing/merge';
import { invoiceDifferences, planRepair, reconcileEventId, snapshotFromListedInvoice, stripeState } from '../../src/billing/repair';
import { snapshotFromEvent } from '../../src/billing/snapshot';
import { MalformedEventError } from '../../src/errors';
import { expectedInvoiceRow } from '../support/expected-invoice-row';
import { event, fixture, invoice } from '../support/stripe-events';

const FETCHED = 1_800_000_000;
const NOW = FETCHED + 5;

function stripeInvoice(overrides: Record<string, unknown> = {}) {
  return invoice({
    id: 'in_repair1',
    status: 'open',
    amount_due: 1000,
    amount_paid: 0,
    amount_remaining: 1000,
    total: 1000,
    currency: 'usd',
    due_date: null,
    metadata: { plan: 'pro', seat: '3' },
    status_transitions: { finalized_at: FETCHED - 1000, paid_at: null, voided_at: null, marked_uncollectible_at: null },
    ...overrides,
  });
}

/** The row the consumer should have written from an event carrying this invoice. */
function rowFrom(inv: Record<string, unknown>, created = FETCHED - 500, id = 'evt_old'): InvoiceState {
  return expectedInvoiceRow(inv, { lastEventId: id, lastEventCreatedAt: created, nowSeconds: created });
}

const paid = () =>
  stripeInvoice({
    status: 'paid',
    amount_paid: 1000,
    amount_remaining: 0,
    status_transitions: { finalized_at: FETCHED - 1000, paid_at: FETCHED - 10, voided_at: null, marked_uncollectible_at: null },
  });

describe('planRepair', () => {
  it('leaves a row that agrees with Stripe alone, whatever its last event and key order of metadata', () => {
    const row = { ...rowFrom(stripeInvoice()), metadata: { seat: '3', plan: 'pro' } };
    expect(planRepair(row, snapshotFromListedInvoice(stripeInvoice(), FETCHED), NOW)).toEqual({ action: 'unchanged' });
  });

  it('moves a drifted open row to paid, dated at the fetch, listing each field', () => {
    const plan = planRepair(rowFrom(stripeInvoice()), snapshotFromListedInvoice(paid(), FETCHED), NOW);
    expect(plan.action).toBe('repair');
    if (plan.action !== 'repair') return;
    expect(plan.differences).toEqual([
      { field: 'status', ours: 'open', stripe: 'paid' },
      { field: 'amountPaidCents', ours: 0, stripe: 1000 },
      { field: 'amountRemainingCents', ours: 1000, stripe: 0 },
      { field: 'paidAt', ours: null, stripe: FETCHED - 10 },
    ]);
    expect(plan.next).toMatchObject({ status: 'paid', lastEventId: reconcileEventId(FETCHED), lastEventCreatedAt: FETCHED });
  });

  it('overwrites a corrupted paid row back to open, which the merge would never do', () => {
    const corrupted = rowFrom(paid());
    const snapshot = snapshotFromListedInvoice(stripeInvoice(), FETCHED);
    expect(mergeInvoice(corrupted, snapshot, NOW).status).toBe('paid');
    const plan = planRepair(corrupted, snapshot, NOW);
    expect(plan.action).toBe('repair');
    if (plan.action === 'repair') expect(plan.next).toMatchObject({ status: 'open', paidAt: null, amountPaidCents: 0 });
  });

  it('inserts a missing row, overdue computed from the clock', () => {
    const due = stripeInvoice({ collection_method: 'send_invoice', due_date: NOW - 60 });
    const plan = planRepair(null, snapshotFromListedInvoice(due, FETCHED), NOW);
    expect(plan).toMatchObject({ action: 'insert', next: { stripeInvoiceId: 'in_repair1', status: 'open', overdue: true, deletedAt: null } });
  });

  it('skips a row whose last event is as new as the fetch or newer, and repairs one dated in the future', () => {
    const snapshot = snapshotFromListedInvoice(paid(), FETCHED);
    for (const created of [FETCHED, FETCHED + 3]) {
      expect(planRepair(rowFrom(stripeInvoice({ metadata: {} }), created), snapshot, NOW)).toMatchObject({ action: 'skip', reason: 'changed_since_fetch' });
    }
    expect(planRepair(rowFrom(stripeInvoice(), NOW + 3600), snapshot, NOW).action).toBe('repair');
  });

  it('keeps a deleted draft deleted (the deletion may postdate the fetch) but clears the mark on a finalized invoice', () => {
    const draft = stripeInvoice({ status: 'draft', status_transitions: null });
    const deletedDraft = { ...rowFrom(draft), deletedAt: FETCHED - 100 };
    expect(planRepair(deletedDraft, snapshotFromListedInvoice(draft, FETCHED), NOW)).toEqual({ action: 'unchanged' });
    const plan = planRepair({ ...rowFrom(stripeInvoice()), deletedAt: FETCHED - 100 }, snapshotFromListedInvoice(stripeInvoice(), FETCHED), NOW);
    expect(plan).toMatchObject({ action: 'repair', differences: [{ field: 'deletedAt', ours: FETCHED - 100, stripe: null }] });
  });
});

describe('the repaired row among later events', () => {
  it('gives way to an event in the second of the fetch (its id sorts first), not to an older one', () => {
    const plan = planRepair(rowFrom(stripeInvoice()), snapshotFromListedInvoice(stripeInvoice({ attempt_count: 0, metadata: { a: '1' } }), FETCHED), NOW);
    if (plan.action !== 'repair') throw new Error(plan.action);
    const later = snapshotFromEvent(event('invoice.updated', stripeInvoice({ metadata: { b: '2' } }), { id: 'evt_later', created: FETCHED }));
    expect(mergeInvoice(plan.next, later, NOW).metadata).toEqual({ b: '2' });
    const older = snapshotFromEvent(event('invoice.updated', stripeInvoice({ metadata: { c: '3' } }), { id: 'evt_older', created: FETCHED - 1 }));
    expect(mergeInvoice(plan.next, older, NOW).metadata).toEqual({ a: '1' });
  });
});

describe('invoiceDifferences', () => {
  it('ignores overdue and the last-event bookkeeping', () => {
    const row = rowFrom(stripeInvoice());
    expect(invoiceDifferences(row, { ...row, overdue: !row.overdue, lastEventId: 'x', lastEventCreatedAt: 1 })).toEqual([]);
  });

  it('compares metadata by content', () => {
    const row = rowFrom(stripeInvoice());
    expect(invoiceDifferences(row, { ...row, metadata: { plan: 'pro' } })).toEqual([
      { field: 'metadata', ours: { plan: 'pro', seat: '3' }, stripe: { plan: 'pro' } },
    ]);
  });
});

describe('snapshotFromListedInvoice', () => {
  it('refuses what cannot become a row', () => {
    expect(() => snapshotFromListedInvoice(stripeInvoice({ currency: 'dollars' }), FETCHED)).toThrow(MalformedEventError);
    expect(() => snapshotFromListedInvoice({ ...fixture('deleted_invoice_fixture.json') }, FETCHED)).toThrow(/deletion stub/);
  });

  it('never builds a stub state', () => {
    const snapshot = snapshotFromListedInvoice(stripeInvoice(), FETCHED);
    expect(() => stripeState({ ...snapshot, fields: null, stub: true }, null, NOW)).toThrow(MalformedEventError);
  });
});
