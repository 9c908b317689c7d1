import fc from 'fast-check';
import type { InvoiceState, InvoiceStatus } from '../../src/billing/invoice-state';
import { mergeInvoice, sameState } from '../../src/billing/merge';
import type { SnapshotFields } from '../../src/billing/invoice-state';
import { snapshotFromEvent, type InvoiceSnapshot } from '../../src/billing/snapshot';
import {
  NOW,
  draftInvoice,
  eventsFromPlan,
  finalize,
  hex,
  invoiceEvent,
  isStub,
  lifecycle,
  lifecyclePlan,
  markUncollectible,
  pay,
  permutationOf,
  type InvoiceEventJson,
  type InvoiceJson,
} from './invoice-events';

const DAY = 86_400;

/** One delivery of an event; `resentFrom` marks a re-send of the same change under a new event id. */
interface Delivery {
  event: InvoiceEventJson;
  snapshot: InvoiceSnapshot;
  resentFrom: string | null;
}

/** Frozen inputs and outputs make any mutation inside the merge throw, since it must stay pure. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const deliver = (event: InvoiceEventJson, resentFrom: string | null = null): Delivery => ({
  event,
  snapshot: deepFreeze(snapshotFromEvent(event)),
  resentFrom,
});

function trace(deliveries: readonly Delivery[]): InvoiceState[] {
  const rows: InvoiceState[] = [];
  let row: InvoiceState | null = null;
  for (const d of deliveries) {
    row = deepFreeze(mergeInvoice(row, d.snapshot, NOW));
    rows.push(row);
  }
  return rows;
}

function fold(deliveries: readonly Delivery[]): InvoiceState {
  const rows = trace(deliveries);
  if (rows.length === 0) throw new Error('fold of no events');
  return rows[rows.length - 1]!;
}

const foldEvents = (events: readonly InvoiceEventJson[]) => fold(events.map((e) => deliver(e)));

/**
 * sameState is the production notion of "nothing changed". toEqual runs only on a mismatch, to print
 * a field diff: it is too slow for the quadratic loops below.
 */
function expectSameState(actual: InvoiceState, expected: InvoiceState): void {
  if (sameState(actual, expected)) return;
  expect(actual).toEqual(expected);
  throw new Error(`sameState is false for rows that toEqual accepts: ${JSON.stringify({ actual, expected })}`);
}

const withoutLastEventId = (row: InvoiceState): InvoiceState => ({ ...row, lastEventId: '' });

/**
 * Stripe delivers at least once (the same event id up to a few times) and sometimes sends one change
 * twice under two event ids; the re-send keeps `created` and the invoice object byte for byte.
 */
function deliveriesOf(events: InvoiceEventJson[]): fc.Arbitrary<Delivery[]> {
  const n = events.length;
  const resendSeed = fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: hex(6) });
  return fc
    .tuple(
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }),
      fc.array(resendSeed, { minLength: n, maxLength: n }),
    )
    .map(([repeats, resendSeeds]) =>
      events.flatMap((event, i) => {
        const original = deliver(event);
        const copies: Delivery[] = Array.from({ length: repeats[i]! }, () => original);
        const seed = resendSeeds[i];
        if (seed != null) {
          const resent: InvoiceEventJson = { ...event, id: `evt_${seed}R${i}`, data: structuredClone(event.data) };
          copies.push(deliver(resent, event.id));
        }
        return copies;
      }),
    );
}

interface Scenario {
  events: InvoiceEventJson[];
  deliveries: Delivery[];
  orderA: Delivery[];
  orderB: Delivery[];
}

const scenario: fc.Arbitrary<Scenario> = lifecycle.chain((events) =>
  deliveriesOf(events).chain((deliveries) =>
    fc.record({
      events: fc.constant(events),
      deliveries: fc.constant(deliveries),
      orderA: permutationOf(deliveries),
      orderB: permutationOf(deliveries),
    }),
  ),
);

const FIELD_KEYS = Object.keys(snapshotFromEvent(invoiceEvent('evt_keys', 'invoice.created', NOW, draftInvoice())).fields!) as (
  | keyof SnapshotFields
)[];

describe('mergeInvoice over generated Stripe lifecycles of one invoice', () => {
  it('the chronological fold ends with what the last full snapshot said (and the deletion, if any)', () => {
    fc.assert(
      fc.property(lifecycle, (events) => {
        const row = foldEvents(events);
        const lastFull = [...events].reverse().find((e) => !isStub(e.data.object))!;
        const fields = snapshotFromEvent(lastFull).fields!;
        expect(Object.fromEntries(FIELD_KEYS.map((key) => [key, row[key]]))).toEqual(fields);
        const deletion = events.find((e) => e.type === 'invoice.deleted');
        expect(row.deletedAt).toBe(deletion ? deletion.created : null);
        expect(row.stripeInvoiceId).toBe(lastFull.data.object.id);
      }),
      { numRuns: 300 },
    );
  });

  it('A: every permutation and duplication converges to the chronological row', () => {
    fc.assert(
      fc.property(scenario, ({ events, deliveries, orderA, orderB }) => {
        const chronological = foldEvents(events);
        const a = fold(orderA);
        const b = fold(orderB);

        // Two orders of the same multiset must agree on everything, lastEventId included: two
        // replicas that received the deliveries in different orders must write the same row.
        expectSameState(a, b);
        expectSameState(withoutLastEventId(a), withoutLastEventId(chronological));

        if (a.lastEventId !== chronological.lastEventId) {
          // Only a re-send under a new id of the very snapshot that won chronologically may win instead.
          const winner = deliveries.find((d) => d.event.id === a.lastEventId);
          const chronologicalWinner = events.find((e) => e.id === chronological.lastEventId);
          expect(winner?.resentFrom).toEqual(expect.any(String));
          expect(winner?.event.created).toBe(chronologicalWinner?.created);
          expect(winner?.event.data.object).toEqual(chronologicalWinner?.data.object);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('B: merging a snapshot that is already folded in changes nothing', () => {
    fc.assert(
      fc.property(scenario, ({ orderA }) => {
        const rows = trace(orderA);
        rows.forEach((row, i) => {
          for (let j = 0; j <= i; j++) expectSameState(mergeInvoice(row, orderA[j]!.snapshot, NOW), row);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('C: status never goes down the ladder and a deletion is never forgotten, at every step', () => {
    const terminal: readonly string[] = ['paid', 'void'];
    fc.assert(
      fc.property(scenario, ({ orderA }) => {
        const rows = trace(orderA);
        for (let i = 1; i < rows.length; i++) {
          const prev = rows[i - 1]!;
          const next = rows[i]!;
          const broken: string[] = [];
          if (terminal.includes(prev.status) && next.status !== prev.status) broken.push('left a terminal status');
          if (prev.status === 'uncollectible' && !['uncollectible', 'paid', 'void'].includes(next.status)) {
            broken.push('uncollectible became something other than paid or void');
          }
          // A stub-only row says "draft" without knowing anything; only a real snapshot pins the status.
          if (prev.currency !== null && prev.status !== 'draft' && next.status === 'draft') broken.push('returned to draft');
          if (prev.currency !== null && next.currency === null) broken.push('a stub erased the fields');
          if (prev.deletedAt !== null && next.deletedAt === null) broken.push('forgot the deletion');
          if (broken.length > 0) {
            const at = { step: i, event: orderA[i]!.event.id, type: orderA[i]!.event.type, from: prev.status, to: next.status };
            expect({ ...at, broken }).toEqual({ ...at, broken: [] });
          }
        }
        const deleted = orderA.some((d) => d.event.type === 'invoice.deleted');
        expect(rows[rows.length - 1]!.deletedAt !== null).toBe(deleted);
      }),
      { numRuns: 300 },
    );
  });

  it('D: overdue is exactly "open, not deleted, past due and money owed" for every intermediate row', () => {
    const seen = { overdue: 0, notOverdue: 0 };
    fc.assert(
      fc.property(scenario, ({ orderA }) => {
        for (const row of trace(orderA)) {
          const expected =
            row.status === 'open' &&
            row.deletedAt === null &&
            row.dueDate !== null &&
            row.dueDate < NOW &&
            row.amountRemainingCents > 0;
          expect({ overdue: row.overdue, status: row.status, dueDate: row.dueDate }).toEqual({
            overdue: expected,
            status: row.status,
            dueDate: row.dueDate,
          });
          seen[expected ? 'overdue' : 'notOverdue'] += 1;
        }
      }),
      { numRuns: 300 },
    );
    // Without both outcomes the property above would hold vacuously.
    expect(seen.overdue).toBeGreaterThan(0);
    expect(seen.notOverdue).toBeGreaterThan(0);
  });
});

describe('the lifecycle generator itself', () => {
  const samples = fc.sample(lifecyclePlan, { numRuns: 1000, seed: 20_260_101 }).map(eventsFromPlan);
  const rank: Record<InvoiceStatus, number> = { draft: 0, open: 1, uncollectible: 2, paid: 3, void: 3 };

  it('emits valid events that make "chronological" well-defined', () => {
    // Violations are collected rather than expected one by one: expect() in these loops is slow.
    const violations: string[] = [];
    const check = (ok: boolean, what: string, events: InvoiceEventJson[]) => {
      if (!ok) violations.push(`${what}: ${events.map((e) => `${e.created} ${e.type}`).join(', ')}`);
    };
    for (const events of samples) {
      const full = events.filter((e) => !isStub(e.data.object)) as (InvoiceEventJson & { data: { object: InvoiceJson } })[];
      for (const e of events) {
        try {
          snapshotFromEvent(e);
        } catch (error) {
          check(false, `unparsable ${String(error)}`, events);
        }
      }
      for (let i = 1; i < events.length; i++) check(events[i]!.created >= events[i - 1]!.created, 'created decreases', events);
      for (let i = 1; i < full.length; i++) {
        const [p, n] = [full[i - 1]!.data.object, full[i]!.data.object];
        check(rank[n.status] >= rank[p.status], 'status goes down', events);
        if (JSON.stringify(p.metadata) !== JSON.stringify(n.metadata)) {
          check(full[i]!.created > full[i - 1]!.created, 'metadata change within the second of the previous event', events);
        }
      }
      for (let i = 0; i < full.length; i++) {
        for (let j = i + 1; j < full.length && full[j]!.created === full[i]!.created; j++) {
          const [p, n] = [full[i]!.data.object, full[j]!.data.object];
          if (p.status !== n.status) continue;
          const identical = JSON.stringify(p) === JSON.stringify(n);
          const grows =
            n.amount_paid >= p.amount_paid &&
            n.attempt_count >= p.attempt_count &&
            (n.amount_paid > p.amount_paid || n.attempt_count > p.attempt_count);
          check(identical || grows, 'same second and status without identical snapshot or growth', events);
        }
      }
    }
    expect(violations.slice(0, 5)).toEqual([]);
  });

  it('covers the interesting shapes often enough', () => {
    const finalRows = samples.map(foldEvents);
    const count = (predicate: (events: InvoiceEventJson[]) => boolean) => samples.filter(predicate).length;
    const types = (events: InvoiceEventJson[]) => events.map((e) => e.type);
    const sameSecond = (events: InvoiceEventJson[], a: string, b: string) =>
      events.some((x) => x.type === a && events.some((y) => y.type === b && y.created === x.created));
    const statusesPerSecond = (events: InvoiceEventJson[]) => {
      const bySecond = new Map<number, Set<string>>();
      for (const e of events) {
        if (isStub(e.data.object)) continue;
        bySecond.set(e.created, (bySecond.get(e.created) ?? new Set()).add(e.data.object.status));
      }
      return Math.max(...[...bySecond.values()].map((s) => s.size));
    };
    const shapes = {
      deletedStub: count((es) => es.some((e) => e.type === 'invoice.deleted' && isStub(e.data.object))),
      deletedFull: count((es) => es.some((e) => e.type === 'invoice.deleted' && !isStub(e.data.object))),
      paid: count((es) => types(es).includes('invoice.paid')),
      paymentSucceeded: count((es) => types(es).includes('invoice.payment_succeeded')),
      voided: count((es) => types(es).includes('invoice.voided')),
      uncollectibleThenPaid: count((es) => types(es).includes('invoice.marked_uncollectible') && types(es).includes('invoice.paid')),
      metadataAfterTerminal: count((es) => {
        const last = es[es.length - 1]!.data.object;
        return !isStub(last) && last.status !== 'open' && es[es.length - 1]!.type === 'invoice.updated';
      }),
      partialPayment: count((es) => es.some((e) => !isStub(e.data.object) && e.data.object.status === 'open' && e.data.object.amount_paid > 0)),
      finalizedAndPaidSameSecond: count((es) => sameSecond(es, 'invoice.finalized', 'invoice.paid')),
      threeStatusesInOneSecond: count((es) => statusesPerSecond(es) >= 3),
      endsOverdue: finalRows.filter((row) => row.overdue).length,
      endsOpenNotOverdue: finalRows.filter((row) => row.status === 'open' && !row.overdue).length,
    };
    for (const [shape, n] of Object.entries(shapes)) expect([shape, n >= 15]).toEqual([shape, true]);
  });
});

describe('mergeInvoice examples', () => {
  const t = NOW - 5 * DAY;
  const fold = (events: readonly InvoiceEventJson[]) => foldEvents(events);
  const permutations = <T>(xs: readonly T[]): T[][] =>
    xs.length <= 1 ? [[...xs]] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));

  describe('finalized, updated and paid within the same second', () => {
    const draft = draftInvoice({ due_date: NOW - 2 * DAY });
    const open = finalize(draft, t);
    const created = invoiceEvent('evt_m_created', 'invoice.created', t - 120, draft);
    // The paid event gets the smallest id, so the id tie-break cannot be what makes it win.
    const finalized = invoiceEvent('evt_z_finalized', 'invoice.finalized', t, open);
    const updated = invoiceEvent('evt_y_updated', 'invoice.updated', t, open);
    const paid = invoiceEvent('evt_a_paid', 'invoice.paid', t, pay(open, t));
    const orders = permutations([finalized, updated, paid]);
    const reference = fold([created, finalized, updated, paid]);

    it('has six orders to check', () => expect(orders).toHaveLength(6));

    it.each(orders.map((order) => [order.map((e) => e.type).join(' → '), order] as const))('%s ends paid', (_name, order) => {
      const row = fold([created, ...order]);
      expect(row).toMatchObject({
        status: 'paid',
        paidAt: t,
        finalizedAt: t,
        number: open.number,
        amountPaidCents: 2500,
        amountRemainingCents: 0,
        overdue: false,
        lastEventId: 'evt_a_paid',
      });
      expectSameState(row, reference);
      expectSameState(fold([...order, created]), reference);
    });
  });

  it('applies a later metadata change on a paid invoice, in either order', () => {
    const open = finalize(draftInvoice(), t);
    const paidInvoice = pay(open, t + 10);
    const paid = invoiceEvent('evt_paid', 'invoice.paid', t + 10, paidInvoice);
    const edited = invoiceEvent('evt_edit', 'invoice.updated', t + 70, { ...paidInvoice, metadata: { po: 'PO-2' } });
    for (const order of [[paid, edited], [edited, paid]]) {
      expect(fold(order)).toMatchObject({ status: 'paid', metadata: { po: 'PO-2' }, paidAt: t + 10, lastEventId: 'evt_edit' });
    }
  });

  describe('an uncollectible invoice that is later paid', () => {
    const open = finalize(draftInvoice({ due_date: NOW - 2 * DAY }), t);
    const uncollectible = markUncollectible(open, t + DAY);
    const finalized = invoiceEvent('evt_fin', 'invoice.finalized', t, open);
    const marked = invoiceEvent('evt_unc', 'invoice.marked_uncollectible', t + DAY, uncollectible);
    const paid = invoiceEvent('evt_paid', 'invoice.paid', t + 2 * DAY, pay(uncollectible, t + 2 * DAY));

    it('is overdue while open and past due, and no longer once marked uncollectible', () => {
      expect(fold([finalized]).overdue).toBe(true);
      expect(fold([finalized, marked])).toMatchObject({ status: 'uncollectible', overdue: false });
    });

    it.each(permutations([finalized, marked, paid]).map((o) => [o.map((e) => e.type).join(' → '), o] as const))(
      '%s ends paid and keeps both transition times',
      (_name, order) => {
        expect(fold(order)).toMatchObject({
          status: 'paid',
          finalizedAt: t,
          markedUncollectibleAt: t + DAY,
          paidAt: t + 2 * DAY,
          amountRemainingCents: 0,
          overdue: false,
        });
      },
    );
  });

  describe('a deleted draft', () => {
    const draft = draftInvoice({ metadata: { order_ref: 'A-17' }, customer_email: 'ada@example.com' });
    const created = invoiceEvent('evt_created', 'invoice.created', t, draft);
    const stub = invoiceEvent('evt_deleted', 'invoice.deleted', t + 30, { id: draft.id, object: 'invoice', deleted: true });
    const draftFields = {
      status: 'draft',
      currency: 'eur',
      amountCents: 2500,
      stripeCustomerId: 'cus_TestCustomer01',
      customerEmail: 'ada@example.com',
      metadata: { order_ref: 'A-17' },
      deletedAt: t + 30,
      overdue: false,
    };

    it('a stub alone is known only as deleted', () => {
      expect(fold([stub])).toMatchObject({ stripeInvoiceId: draft.id, currency: null, deletedAt: t + 30, overdue: false });
    });

    it.each([
      ['draft, then stub', [created, stub]],
      ['stub, then draft', [stub, created]],
    ])('%s: keeps the draft fields and the deletion', (_name, order) => {
      expect(fold(order)).toMatchObject(draftFields);
    });

    it('stays deleted when more draft snapshots arrive afterwards', () => {
      const lateUpdate = invoiceEvent('evt_late', 'invoice.updated', t + 20, { ...draft, metadata: { order_ref: 'A-18' } });
      const laterStillDraft = invoiceEvent('evt_later', 'invoice.updated', t + 90, { ...draft, metadata: { order_ref: 'A-19' } });
      const row = fold([stub, created, lateUpdate, laterStillDraft, created]);
      expect(row).toMatchObject({ ...draftFields, metadata: { order_ref: 'A-19' }, deletedAt: t + 30 });
    });
  });
});
