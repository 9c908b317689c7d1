// The customer reducer over generated histories of one customer (email and name changes, some
// in the same second, unusable and absent emails, deletion as a whole customer or as a stub),
// delivered repeatedly, re-sent under new ids and shuffled; and with an operator's
// `contacts set --primary-email` landing at any point. The approach of
// test/billing/merge.property.test.ts.
import fc from 'fast-check';
import { parseEmailAddress } from '../../src/billing/email-address';
import { mergeCustomer, reduceListedCustomer, sameContact, type CustomerContactState } from '../../src/stripe-objects/customer-reducer';
import { readCustomerEvent, type CustomerSnapshot } from '../../src/stripe-objects/customer-schema';
import { hex, permutationOf } from '../billing/invoice-events';
import { customer, customerEvent, deletedCustomerStub } from '../support/credit-note-events';

type Json = Record<string, unknown>;
interface Event {
  id: string;
  type: string;
  created: number;
  object: Json;
}
interface Delivery {
  event: Event;
  snapshot: CustomerSnapshot;
  resentFrom: string | null;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const deliver = (event: Event, resentFrom: string | null = null): Delivery => ({
  event,
  snapshot: deepFreeze(readCustomerEvent(customerEvent(event.type, event.object, { id: event.id, created: event.created }))),
  resentFrom,
});

const OPERATOR = 'operator@acme.test';

/** A step of one history: a delivery, or the operator's `contacts set --primary-email`. */
type Step = { delivery: Delivery } | { operator: true };

function trace(steps: readonly Step[]): CustomerContactState[] {
  const rows: CustomerContactState[] = [];
  let row: CustomerContactState | null = null;
  const id = steps.flatMap((s) => ('delivery' in s ? [s.delivery.snapshot.stripeCustomerId] : []))[0] ?? 'cus_none';
  for (const s of steps) {
    if ('operator' in s) {
      // What upsertContact does: the primary email only, nothing of the Stripe columns.
      row = deepFreeze({ ...(row ?? { stripeCustomerId: id, stripeEmail: null, name: null, deletedAt: null, stripeSyncedAt: null, lastEventId: null, stripeAccountId: null }), primaryEmail: OPERATOR });
    } else {
      row = deepFreeze(mergeCustomer(row, s.delivery.snapshot));
    }
    rows.push(row);
  }
  return rows;
}
const fold = (deliveries: readonly Delivery[]) => trace(deliveries.map((delivery) => ({ delivery }))).at(-1)!;

function expectSame(actual: CustomerContactState, expected: CustomerContactState): void {
  if (sameContact(actual, expected)) return;
  expect(actual).toEqual(expected);
  throw new Error('sameContact is false for rows toEqual accepts');
}

const T0 = 1_760_000_000;
const EMAILS = ['ada@example.com', 'Ada@Example.COM', 'billing@example.com', 'not an address', 'a@example.com, b@example.com', null] as const;

/** One customer's events in Stripe's order; times advance by 0 (same second) or more. */
const history: fc.Arbitrary<Event[]> = fc
  .record({
    seed: hex(8),
    first: fc.constantFrom(...EMAILS),
    updates: fc.array(fc.record({ gap: fc.constantFrom(0, 0, 1, 3), email: fc.constantFrom(...EMAILS), name: fc.constantFrom('Ada', 'Ada L.', null) }), { maxLength: 5 }),
    deletion: fc.option(fc.record({ gap: fc.constantFrom(0, 1, 10), stub: fc.boolean(), alsoStub: fc.boolean() }), { nil: null }),
  })
  .map(({ seed, first, updates, deletion }) => {
    const id = `cus_${seed}`;
    let t = T0;
    let current = customer({ id, email: first, name: 'Ada', created: T0 });
    const events: Event[] = [{ id: `evt_${seed}c`, type: 'customer.created', created: t, object: current }];
    updates.forEach((u, i) => {
      t += u.gap;
      current = { ...current, email: u.email, name: u.name };
      events.push({ id: `evt_${seed}u${i}`, type: 'customer.updated', created: t, object: current });
    });
    if (deletion) {
      t += deletion.gap;
      events.push({ id: `evt_${seed}d`, type: 'customer.deleted', created: t, object: deletion.stub ? deletedCustomerStub(id) : current });
      // A thin customer.deleted fetched later: Stripe answers the stub, dated when it was fetched.
      if (deletion.alsoStub) events.push({ id: `evt_${seed}t`, type: 'customer.deleted', created: t + 60, object: deletedCustomerStub(id) });
    }
    return events;
  });

function deliveriesOf(events: Event[]): fc.Arbitrary<Delivery[]> {
  const n = events.length;
  return fc
    .tuple(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }), fc.array(fc.option(hex(6), { nil: null, freq: 3 }), { minLength: n, maxLength: n }))
    .map(([repeats, resends]) =>
      events.flatMap((e, i) => {
        const original = deliver(e);
        const copies = Array.from({ length: repeats[i]! }, () => original);
        const seed = resends[i];
        if (seed != null) copies.push(deliver({ ...e, id: `evt_${seed}R${i}`, object: structuredClone(e.object) }, e.id));
        return copies;
      }),
    );
}

const scenario = history.chain((events) =>
  deliveriesOf(events).chain((deliveries) =>
    fc.record({ events: fc.constant(events), deliveries: fc.constant(deliveries), orderA: permutationOf(deliveries), orderB: permutationOf(deliveries), operatorAt: fc.integer({ min: 0, max: deliveries.length }) }),
  ),
);

const full = (d: Delivery) => d.snapshot.fields !== null;

describe('mergeCustomer over generated histories of one customer', () => {
  it('A: every permutation and duplication gives the same row, last_event_id included', () => {
    fc.assert(
      fc.property(scenario, ({ deliveries, orderA, orderB }) => {
        const a = fold(orderA);
        expectSame(a, fold(orderB));
        expectSame(a, fold(deliveries));
      }),
      { numRuns: 400 },
    );
  });

  it('B: a snapshot already folded in hands back the row itself', () => {
    fc.assert(
      fc.property(scenario, ({ orderA }) => {
        const rows = trace(orderA.map((delivery) => ({ delivery })));
        rows.forEach((row, i) => {
          for (let j = 0; j <= i; j++) expect(mergeCustomer(row, orderA[j]!.snapshot)).toBe(row);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('C: the row holds the latest customer (by created; in a second, the email sorting last), its usable address as primary, and the earliest deletion', () => {
    fc.assert(
      fc.property(scenario, ({ events, orderA }) => {
        const row = fold(orderA);
        const customers = events.filter((e) => e.object['deleted'] !== true);
        const latest = Math.max(...customers.map((e) => e.created));
        const inLastSecond = customers.filter((e) => e.created === latest);
        const emails = inLastSecond.map((e) => e.object['email'] as string | null);
        const winnerEmail = emails.reduce((a, b) => (a === null ? b : b === null ? a : a > b ? a : b));
        expect(row.stripeSyncedAt).toBe(latest);
        expect(row.stripeEmail).toBe(winnerEmail);
        expect(row.primaryEmail).toBe(parseEmailAddress(winnerEmail));
        const deletions = events.filter((e) => e.type === 'customer.deleted').map((e) => e.created);
        expect(row.deletedAt).toBe(deletions.length > 0 ? Math.min(...deletions) : null);
      }),
      { numRuns: 300 },
    );
  });

  it('D: a deletion is never forgotten, and the Stripe state never goes back in time, at every step', () => {
    fc.assert(
      fc.property(scenario, ({ orderA }) => {
        const rows = trace(orderA.map((delivery) => ({ delivery })));
        for (let i = 1; i < rows.length; i++) {
          const [prev, next] = [rows[i - 1]!, rows[i]!];
          if (prev.deletedAt !== null) expect(next.deletedAt).not.toBeNull();
          if (prev.stripeSyncedAt !== null) expect(next.stripeSyncedAt).toBeGreaterThanOrEqual(prev.stripeSyncedAt);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("E: the operator's primary email stands until a newer customer state arrives, and only then gives way to it", () => {
    const seen = { kept: 0, replaced: 0 };
    fc.assert(
      fc.property(scenario, ({ orderA, operatorAt }) => {
        const steps: Step[] = orderA.map((delivery) => ({ delivery }));
        steps.splice(operatorAt, 0, { operator: true });
        const rows = trace(steps);
        const atSet = rows[operatorAt]!;
        const last = rows.at(-1)!;
        // Stripe's part of the row is what the deliveries alone make of it.
        expectSame({ ...last, primaryEmail: null }, { ...fold(orderA), primaryEmail: null });
        const movedOn = last.stripeSyncedAt !== atSet.stripeSyncedAt || last.stripeEmail !== atSet.stripeEmail || last.name !== atSet.name;
        if (movedOn) {
          expect(last.primaryEmail).toBe(parseEmailAddress(last.stripeEmail));
          seen.replaced++;
        } else {
          expect(last.primaryEmail).toBe(OPERATOR);
          seen.kept++;
        }
        // What came after the set without a newer state (replays, duplicates, older events, re-sends, stubs) left it alone.
        const after = orderA.slice(operatorAt);
        if (!movedOn) expect(after.every((d) => !full(d) || d.snapshot.eventCreated <= (atSet.stripeSyncedAt ?? Infinity))).toBe(true);
      }),
      { numRuns: 400 },
    );
    expect(seen.kept).toBeGreaterThan(20);
    expect(seen.replaced).toBeGreaterThan(20);
  });

  it('F: an import that reads the state the row holds changes nothing', () => {
    fc.assert(
      fc.property(scenario, ({ orderA }) => {
        const row = fold(orderA);
        const winner = orderA.find((d) => d.event.id === row.lastEventId);
        if (!winner) return;
        const reread = deepFreeze({ ...winner.snapshot, eventId: 'evt_listed', eventCreated: winner.snapshot.eventCreated + 3600, eventType: 'customer.updated', deleted: false });
        expect(reduceListedCustomer(row, reread, { now: 0 })).toBe(row);
      }),
      { numRuns: 200 },
    );
  });

  it('the generator makes the shapes that matter', () => {
    const samples = fc.sample(scenario, { numRuns: 500, seed: 20_260_101 });
    const count = (p: (s: (typeof samples)[number]) => boolean) => samples.filter(p).length;
    const tie = (es: Event[]) => es.some((e, i) => i > 0 && e.created === es[i - 1]!.created && e.object['email'] !== es[i - 1]!.object['email']);
    expect(count((s) => tie(s.events))).toBeGreaterThan(50);
    expect(count((s) => s.events.some((e) => e.type === 'customer.deleted' && e.object['deleted'] === true))).toBeGreaterThan(50);
    expect(count((s) => s.events.some((e) => e.type === 'customer.deleted' && e.object['deleted'] !== true))).toBeGreaterThan(50);
    expect(count((s) => s.deliveries.some((d) => d.resentFrom !== null))).toBeGreaterThan(100);
  });
});

describe('mergeCustomer, by example', () => {
  const id = 'cus_Example';
  const snap = (type: string, created: number, object: Json, eventId = `evt_${type}_${created}`) => readCustomerEvent(customerEvent(type, object, { id: eventId, created }));
  const operatorRow = (): CustomerContactState => ({ stripeCustomerId: id, primaryEmail: OPERATOR, stripeEmail: null, name: null, deletedAt: null, stripeSyncedAt: null, lastEventId: null, stripeAccountId: null });

  it('takes any customer snapshot over a row that has no Stripe data', () => {
    const row = mergeCustomer(operatorRow(), snap('customer.updated', 100, customer({ id, email: 'ada@Example.com' })));
    expect(row).toMatchObject({ primaryEmail: 'ada@example.com', stripeEmail: 'ada@Example.com', stripeSyncedAt: 100 });
  });

  it('stores an unusable email as sent, and null as the primary email', () => {
    for (const email of ['not an address', 'a@x.test, b@x.test', 'x@x.test\r\nBcc: y@y.test', '', null]) {
      const row = mergeCustomer(null, snap('customer.created', 100, customer({ id, email })));
      expect({ stripeEmail: row.stripeEmail, primaryEmail: row.primaryEmail }).toEqual({ stripeEmail: email, primaryEmail: null });
    }
  });

  it('after `contacts set`, a replay or an older event changes nothing; a newer one sets its address', () => {
    const synced = mergeCustomer(null, snap('customer.updated', 100, customer({ id, email: 'ada@example.com' }), 'evt_100'));
    const set = { ...synced, primaryEmail: OPERATOR };
    expect(mergeCustomer(set, snap('customer.updated', 100, customer({ id, email: 'ada@example.com' }), 'evt_100'))).toBe(set);
    expect(mergeCustomer(set, snap('customer.updated', 99, customer({ id, email: 'older@example.com' }), 'evt_99'))).toBe(set);
    // The same change re-sent under another event id: the row's event moves, the operator's address stays.
    expect(mergeCustomer(set, snap('customer.updated', 100, customer({ id, email: 'ada@example.com' }), 'evt_zz'))).toMatchObject({ primaryEmail: OPERATOR, lastEventId: 'evt_zz' });
    expect(mergeCustomer(set, snap('customer.updated', 101, customer({ id, email: 'ada@example.com' }), 'evt_101'))).toMatchObject({ primaryEmail: 'ada@example.com', stripeSyncedAt: 101 });
  });

  it('resolves two different customers of one second by the email sorting last, in either order', () => {
    const a = snap('customer.updated', 100, customer({ id, email: 'a@example.com' }), 'evt_z');
    const b = snap('customer.updated', 100, customer({ id, email: 'b@example.com' }), 'evt_a');
    expect(mergeCustomer(mergeCustomer(null, a), b)).toEqual(mergeCustomer(mergeCustomer(null, b), a));
    expect(mergeCustomer(mergeCustomer(null, a), b).primaryEmail).toBe('b@example.com');
  });

  it('marks the deletion from a stub and keeps what the customer was, also as the first thing it hears', () => {
    const row = mergeCustomer(null, snap('customer.created', 100, customer({ id, email: 'ada@example.com' })));
    const deleted = mergeCustomer(row, snap('customer.deleted', 200, deletedCustomerStub(id)));
    expect(deleted).toEqual({ ...row, deletedAt: 200 });
    expect(mergeCustomer(null, snap('customer.deleted', 200, deletedCustomerStub(id)))).toEqual({ ...operatorRow(), primaryEmail: null, deletedAt: 200 });
  });
});
