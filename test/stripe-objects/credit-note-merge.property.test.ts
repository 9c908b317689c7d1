// The credit note reducer is a join: generated lifecycles of one credit note (created, updates,
// a voiding, updates after it), with same-second ties, redeliveries and re-sends under new event
// ids, give the same row in every order, and a snapshot already folded in changes nothing.
// The approach of test/billing/merge.property.test.ts.
import fc from 'fast-check';
import { mergeCreditNote, reduceListedCreditNote, sameCreditNote, type CreditNoteState } from '../../src/stripe-objects/credit-note-reducer';
import { readCreditNoteEvent, type CreditNoteSnapshot } from '../../src/stripe-objects/credit-note-schema';
import { hex, permutationOf } from '../billing/invoice-events';
import { creditNote, creditNoteEvent, voided } from '../support/credit-note-events';

type Json = Record<string, unknown>;
interface Event {
  id: string;
  type: string;
  created: number;
  object: Json;
}
interface Delivery {
  event: Event;
  snapshot: CreditNoteSnapshot;
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
  snapshot: deepFreeze(readCreditNoteEvent(creditNoteEvent(event.type, event.object, { id: event.id, created: event.created }))),
  resentFrom,
});

function trace(deliveries: readonly Delivery[], step = mergeCreditNote): CreditNoteState[] {
  const rows: CreditNoteState[] = [];
  let row: CreditNoteState | null = null;
  for (const d of deliveries) {
    row = deepFreeze(step(row, d.snapshot));
    rows.push(row);
  }
  return rows;
}
const fold = (deliveries: readonly Delivery[]) => trace(deliveries).at(-1)!;

function expectSame(actual: CreditNoteState, expected: CreditNoteState): void {
  if (sameCreditNote(actual, expected)) return;
  expect(actual).toEqual(expected);
  throw new Error('sameCreditNote is false for rows toEqual accepts');
}

const T0 = 1_760_000_000;

/**
 * One credit note's events in Stripe's order: created, updates (some in the same second, some
 * with another pdf link or number, as a re-render gives), maybe a voiding and updates after it.
 * `disagree` gives one update other amounts, which Stripe never sends but the row must settle
 * deterministically.
 */
const lifecycle: fc.Arbitrary<{ events: Event[]; disagree: boolean }> = fc
  .record({
    seed: hex(8),
    type: fc.constantFrom('pre_payment', 'post_payment', 'mixed') as fc.Arbitrary<'pre_payment' | 'post_payment' | 'mixed'>,
    total: fc.integer({ min: 1, max: 100_000 }),
    updates: fc.array(fc.record({ gap: fc.constantFrom(0, 0, 1, 5), pdf: fc.constantFrom('a', 'b', 'c'), number: fc.boolean() }), { maxLength: 4 }),
    voiding: fc.option(fc.record({ gap: fc.constantFrom(0, 1, 30), after: fc.array(fc.constantFrom(0, 1, 7), { maxLength: 2 }), withoutTime: fc.boolean() }), { nil: null }),
    disagree: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
  })
  .map(({ seed, type, total, updates, voiding, disagree }) => {
    const cnId = `cn_${seed}`;
    const base = creditNote({ id: cnId, invoice: `in_${seed}`, type, total, created: T0 });
    const events: Event[] = [{ id: `evt_${seed}c`, type: 'credit_note.created', created: T0, object: base }];
    let t = T0;
    let current = base;
    updates.forEach((u, i) => {
      t += u.gap;
      current = { ...current, pdf: `https://pay.stripe.com/credit_notes/${cnId}/${u.pdf}`, ...(u.number ? { number: `CN-${seed}-${i}` } : {}) };
      const object = disagree === i ? { ...current, total: total + 1, post_payment_amount: (current['post_payment_amount'] as number) + 1 } : current;
      events.push({ id: `evt_${seed}u${i}`, type: 'credit_note.updated', created: t, object });
    });
    if (voiding) {
      t += voiding.gap;
      const v = voided(current, t);
      if (voiding.withoutTime) delete v['voided_at'];
      events.push({ id: `evt_${seed}v`, type: 'credit_note.voided', created: t, object: v });
      voiding.after.forEach((gap, i) => {
        t += gap;
        events.push({ id: `evt_${seed}a${i}`, type: 'credit_note.updated', created: t, object: { ...v, voided_at: v['voided_at'] ?? t } });
      });
    }
    return { events, disagree: disagree !== null && disagree < updates.length };
  });

/** At least once, sometimes the same change again under a second event id. */
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

const scenario = lifecycle.chain(({ events, disagree }) =>
  deliveriesOf(events).chain((deliveries) => fc.record({ events: fc.constant(events), disagree: fc.constant(disagree), deliveries: fc.constant(deliveries), orderA: permutationOf(deliveries), orderB: permutationOf(deliveries) })),
);

describe('mergeCreditNote over generated lifecycles of one credit note', () => {
  it('A: every permutation and duplication gives the same row, last_event_id included', () => {
    fc.assert(
      fc.property(scenario, ({ deliveries, orderA, orderB }) => {
        // Same-second snapshots that differ have no chronological order to agree with (D covers
        // distinct seconds); every order of the same deliveries must agree with every other.
        const a = fold(orderA);
        expectSame(a, fold(orderB));
        expectSame(a, fold(deliveries));
        expectSame(a, fold([...deliveries].reverse()));
      }),
      { numRuns: 400 },
    );
  });

  it('B: a snapshot already folded in hands back the row itself', () => {
    fc.assert(
      fc.property(scenario, ({ orderA }) => {
        const rows = trace(orderA);
        rows.forEach((row, i) => {
          for (let j = 0; j <= i; j++) expect(mergeCreditNote(row, orderA[j]!.snapshot)).toBe(row);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('C: a voided credit note stays void, its voided_at is kept, and amounts Stripe agrees on never change', () => {
    fc.assert(
      fc.property(scenario, ({ events, disagree, orderA }) => {
        const rows = trace(orderA);
        for (let i = 1; i < rows.length; i++) {
          const [prev, next] = [rows[i - 1]!, rows[i]!];
          if (prev.status === 'void') expect(next.status).toBe('void');
          if (prev.voidedAt !== null) expect(next.voidedAt).not.toBeNull();
          if (!disagree) expect([next.totalCents, next.prePaymentAmountCents, next.postPaymentAmountCents]).toEqual([prev.totalCents, prev.prePaymentAmountCents, prev.postPaymentAmountCents]);
        }
        const last = rows.at(-1)!;
        const voidedEvent = events.find((e) => e.type === 'credit_note.voided');
        expect(last.status).toBe(voidedEvent ? 'void' : 'issued');
        expect(last.voidedAt).toBe(voidedEvent ? ((voidedEvent.object['voided_at'] as number | undefined) ?? voidedEvent.created) : null);
        // The amounts of the credit note as issued (the disagreeing update only ever adds a cent).
        expect(last.totalCents).toBe(events[0]!.object['total']);
      }),
      { numRuns: 300 },
    );
  });

  it('D: with strictly increasing times, the chronological fold ends with what the last event said', () => {
    fc.assert(
      fc.property(lifecycle, ({ events }) => {
        fc.pre(events.every((e, i) => i === 0 || e.created > events[i - 1]!.created));
        const row = fold(events.map((e) => deliver(e)));
        const last = events.at(-1)!;
        expect({ number: row.number, pdfUrl: row.pdfUrl, status: row.status, lastEventId: row.lastEventId }).toEqual({
          number: last.object['number'],
          pdfUrl: last.object['pdf'],
          status: last.object['status'],
          lastEventId: last.id,
        });
      }),
      { numRuns: 200 },
    );
  });

  it('E: an import that reads the same state again changes nothing, not even the event it came from', () => {
    fc.assert(
      fc.property(scenario, ({ orderA }) => {
        const row = fold(orderA);
        const last = orderA.find((d) => d.event.id === row.lastEventId) ?? orderA.at(-1)!;
        const reread = deepFreeze({ ...last.snapshot, eventId: 'evt_listed', eventCreated: last.snapshot.eventCreated + 3600 });
        const again = reduceListedCreditNote(row, reread, { now: 0 });
        if (row.status === last.snapshot.fields.status) expect(again).toBe(row);
      }),
      { numRuns: 200 },
    );
  });

  it('the generator makes the shapes that matter', () => {
    const samples = fc.sample(scenario, { numRuns: 500, seed: 20_260_101 });
    const count = (p: (s: (typeof samples)[number]) => boolean) => samples.filter(p).length;
    const tie = (es: Event[]) => es.some((e, i) => i > 0 && e.created === es[i - 1]!.created && e.object['pdf'] !== es[i - 1]!.object['pdf']);
    expect(count((s) => s.events.some((e) => e.type === 'credit_note.voided'))).toBeGreaterThan(100);
    expect(count((s) => tie(s.events))).toBeGreaterThan(50);
    expect(count((s) => s.disagree)).toBeGreaterThan(50);
    expect(count((s) => s.deliveries.some((d) => d.resentFrom !== null))).toBeGreaterThan(100);
  });
});

describe('mergeCreditNote over different snapshots filed under one event id', () => {
  // A credit note fetched from the API and filed under the event that named it (a forced replay
  // of a thin event) can differ from what another read of that event said: one event id, one
  // second, other content, in the fields taken from the winner and in those merged alike.
  const variant = fc.record({
    pdf: fc.constantFrom('a', 'b', 'c'),
    number: fc.constantFrom(null, 'CN-1', 'CN-2'),
    reason: fc.constantFrom('order_change', 'duplicate', null),
    extra: fc.constantFrom(0, 0, 1, 2),
    status: fc.constantFrom('issued', 'issued', 'void'),
    voidedAfter: fc.constantFrom(undefined, 5, 9),
  });
  const oneEvent = fc
    .record({ seed: hex(8), total: fc.integer({ min: 1, max: 100_000 }), created: fc.boolean(), variants: fc.array(variant, { minLength: 2, maxLength: 4 }) })
    .map(({ seed, total, created, variants }) => {
      const cnId = `cn_${seed}`;
      const base = creditNote({ id: cnId, invoice: `in_${seed}`, total, created: T0 });
      const shared = { id: `evt_${seed}x`, type: 'credit_note.updated', created: T0 + 1 };
      const events: Event[] = variants.map((v) => {
        let object: Json = { ...base, pdf: `https://pay.stripe.com/credit_notes/${cnId}/${v.pdf}`, number: v.number, reason: v.reason, total: total + v.extra, post_payment_amount: total + v.extra };
        if (v.status === 'void') {
          object = voided(object, T0 + (v.voidedAfter ?? 0));
          if (v.voidedAfter === undefined) delete object['voided_at'];
        }
        return { ...shared, object };
      });
      if (created) events.unshift({ id: `evt_${seed}c`, type: 'credit_note.created', created: T0, object: base });
      return events;
    });
  const tieScenario = oneEvent.chain((events) =>
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: events.length, maxLength: events.length }).chain((repeats) => {
      const deliveries = events.flatMap((e, i) => {
        const d = deliver(e);
        return Array.from({ length: repeats[i]! }, () => d);
      });
      return fc.record({ events: fc.constant(events), deliveries: fc.constant(deliveries), orderA: permutationOf(deliveries), orderB: permutationOf(deliveries) });
    }),
  );

  it('every order and repetition gives the same row, and a snapshot already folded in hands back the row itself', () => {
    fc.assert(
      fc.property(tieScenario, ({ deliveries, orderA, orderB }) => {
        const a = fold(orderA);
        expectSame(a, fold(orderB));
        expectSame(a, fold(deliveries));
        expectSame(a, fold([...deliveries].reverse()));
        const rows = trace(orderA);
        rows.forEach((row, i) => {
          for (let j = 0; j <= i; j++) expect(mergeCreditNote(row, orderA[j]!.snapshot)).toBe(row);
        });
      }),
      { numRuns: 400 },
    );
  });

  it('keeps void once any read said void, the earliest voided_at, and the least amounts', () => {
    fc.assert(
      fc.property(tieScenario, ({ deliveries, orderA }) => {
        const row = fold(orderA);
        const read = deliveries.map((d) => d.snapshot.fields);
        const voids = read.filter((f) => f.status === 'void');
        expect(row.status).toBe(voids.length > 0 ? 'void' : 'issued');
        expect(row.voidedAt).toBe(voids.length > 0 ? Math.min(...voids.map((f) => f.voidedAt!)) : null);
        expect(row.totalCents).toBe(Math.min(...read.map((f) => f.totalCents)));
      }),
      { numRuns: 200 },
    );
  });

  it('the generator makes reads of one event that differ both in what the winner gives and in what is merged', () => {
    const samples = fc.sample(oneEvent, { numRuns: 500, seed: 20_260_102 });
    const shared = (es: Event[]) => es.filter((e) => e.type === 'credit_note.updated');
    const differ = (es: Event[], field: string) => new Set(shared(es).map((e) => JSON.stringify(e.object[field] ?? null))).size > 1;
    expect(samples.filter((es) => differ(es, 'total') && (differ(es, 'pdf') || differ(es, 'number'))).length).toBeGreaterThan(100);
    expect(samples.filter((es) => differ(es, 'status') && differ(es, 'voided_at')).length).toBeGreaterThan(50);
  });
});
