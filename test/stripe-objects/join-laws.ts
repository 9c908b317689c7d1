/**
 * The laws every money kind's reducer must keep, checked over generated lifecycles of one object:
 * any order and any repetition of its snapshots (Stripe's redeliveries, and the same change
 * re-sent under a second event id with the same `created`) gives the row the chronological fold
 * gives, lastEventId included; a snapshot already folded in changes nothing and hands back the row
 * itself; and the status never moves down the kind's ladder at any step.
 */
import fc from 'fast-check';
import type { EventMeta, Step } from '../../src/stripe-objects/object-kind';

export const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

/** Mostly same-second ties: Stripe stamps a change and its follow-ups within one second. */
export const gap = fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 3600 }) });

const NOW = 1_900_000_000;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Each snapshot delivered 1 to 3 times, some also re-sent under a new event id. */
function deliveriesOf<S extends EventMeta>(snapshots: readonly S[]): fc.Arbitrary<S[]> {
  const n = snapshots.length;
  return fc
    .tuple(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }), fc.array(fc.option(hex(6), { freq: 3 }), { minLength: n, maxLength: n }))
    .map(([repeats, resends]) =>
      snapshots.flatMap((s, i) => {
        const copies: S[] = Array.from({ length: repeats[i]! }, () => s);
        const seed = resends[i];
        if (seed != null) copies.push(deepFreeze({ ...s, eventId: `evt_${seed}R${i}` }));
        return copies;
      }),
    );
}

export function fold<S, R>(reduce: Step<S, R>, snapshots: readonly S[]): R[] {
  const rows: R[] = [];
  let row: R | null = null;
  for (const s of snapshots) {
    row = deepFreeze(reduce(row, s, { now: NOW }));
    rows.push(row);
  }
  return rows;
}

const last = <T>(items: readonly T[]): T => items[items.length - 1]!;

export interface JoinLaws<S extends EventMeta, R> {
  reduce: Step<S, R>;
  /** A lifecycle of one object, in chronological order. */
  lifecycle: fc.Arbitrary<S[]>;
  /** The rank of a row's status on the kind's ladder. */
  rank(row: R): number;
  /** Statuses that, once reached, stay. */
  terminal: readonly string[];
  status(row: R): string | null;
  numRuns?: number;
}

export function checkJoinLaws<S extends EventMeta, R>(laws: JoinLaws<S, R>): void {
  const numRuns = laws.numRuns ?? 300;
  const scenario = laws.lifecycle.map((snapshots) => snapshots.map(deepFreeze)).chain((snapshots) =>
    deliveriesOf(snapshots).chain((deliveries) =>
      fc.record({
        snapshots: fc.constant(snapshots),
        deliveries: fc.constant(deliveries),
        orderA: fc.shuffledSubarray(deliveries, { minLength: deliveries.length, maxLength: deliveries.length }),
        orderB: fc.shuffledSubarray(deliveries, { minLength: deliveries.length, maxLength: deliveries.length }),
      }),
    ),
  );

  it('converges: any order and repetition of the snapshots gives the chronological row, lastEventId included', () => {
    fc.assert(
      fc.property(scenario, ({ deliveries, orderA, orderB }) => {
        // In delivery order, which is chronological: each re-send follows its original. (Between
        // two snapshots of one rank and second the event id decides, so a re-send may win.)
        const chronological = last(fold(laws.reduce, deliveries));
        expect(last(fold(laws.reduce, orderA))).toEqual(chronological);
        expect(last(fold(laws.reduce, orderB))).toEqual(chronological);
      }),
      { numRuns },
    );
  });

  it('a snapshot already folded in changes nothing: the row itself comes back', () => {
    fc.assert(
      fc.property(scenario, ({ orderA }) => {
        const rows = fold(laws.reduce, orderA);
        rows.forEach((row, i) => {
          for (let j = 0; j <= i; j++) expect(laws.reduce(row, orderA[j]!, { now: NOW })).toBe(row);
        });
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });

  it('never moves down the status ladder, and a terminal status stays terminal, at every step', () => {
    fc.assert(
      fc.property(scenario, ({ orderA }) => {
        const rows = fold(laws.reduce, orderA);
        for (let i = 1; i < rows.length; i++) {
          const [prev, next] = [rows[i - 1]!, rows[i]!];
          expect(laws.rank(next)).toBeGreaterThanOrEqual(laws.rank(prev));
          if (laws.terminal.includes(laws.status(prev) ?? '')) expect(laws.terminal).toContain(laws.status(next));
        }
      }),
      { numRuns },
    );
  });
}
