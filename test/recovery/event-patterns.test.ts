/**
 * The patterns backfill lists events under: disjoint, so an event is listed (and sent) once and
 * backfill keeps no set of ids, while listing every event the registry's patterns list.
 */
import fc from 'fast-check';
import { eventPatterns } from '../../src/recovery/backfill';
import { disjointPatterns, patternMatches } from '../../src/recovery/event-patterns';
import { OBJECT_KINDS } from '../../src/stripe-objects/registry';

describe('patternMatches', () => {
  it('matches an exact type, or a prefix and a trailing *, from the start of the type', () => {
    expect(patternMatches('refund.*', 'refund.created')).toBe(true);
    expect(patternMatches('refund.*', 'charge.refund.updated')).toBe(false);
    expect(patternMatches('charge.*', 'charge.refund.updated')).toBe(true);
    expect(patternMatches('invoice.*', 'invoice_payment.paid')).toBe(false);
    expect(patternMatches('invoice.paid', 'invoice.paid')).toBe(true);
    expect(patternMatches('invoice.paid', 'invoice.paid.x')).toBe(false);
  });

  it('refuses a * anywhere but at the end', () => {
    expect(() => patternMatches('*.created', 'refund.created')).toThrow('event pattern *.created: only a trailing * is supported');
    expect(() => disjointPatterns(['charge.*.updated'])).toThrow(/only a trailing \*/);
  });
});

describe('disjointPatterns', () => {
  it('drops repeats and patterns another lists, keeping the order', () => {
    expect(disjointPatterns(['charge.*', 'refund.*', 'charge.dispute.*', 'charge.*', 'refund.created', 'charge.refund.updated'])).toEqual(['charge.*', 'refund.*']);
    expect(disjointPatterns(['charge.dispute.*', 'charge.*'])).toEqual(['charge.*']);
    expect(disjointPatterns(['invoice.*', 'invoice_payment.*'])).toEqual(['invoice.*', 'invoice_payment.*']);
    expect(disjointPatterns([])).toEqual([]);
  });

  const segment = fc.constantFrom('a', 'b', 'ab', 'a_b');
  const type = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('.'));
  // Wildcards cut a type anywhere, so a prefix may end mid-segment (`a*` lists `ab.x` and `a.x`).
  const pattern = fc.oneof(
    type,
    type.chain((t) => fc.integer({ min: 0, max: t.length }).map((n) => `${t.slice(0, n)}*`)),
    type.map((t) => `${t}.*`),
  );

  it('lists every type the patterns list, each under exactly one pattern kept; the kept are some of those given, in order', () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 6 }), fc.array(type, { minLength: 1, maxLength: 20 }), (patterns, types) => {
        const kept = disjointPatterns(patterns);
        let from = 0;
        for (const k of kept) {
          const at = patterns.indexOf(k, from);
          expect(at).toBeGreaterThanOrEqual(0);
          from = at + 1;
        }
        for (const t of types) {
          const before = patterns.some((p) => patternMatches(p, t));
          expect([t, kept.filter((p) => patternMatches(p, t)).length]).toEqual([t, before ? 1 : 0]);
        }
        expect(disjointPatterns(kept)).toEqual(kept);
      }),
      { numRuns: 500 },
    );
  });

  it('leaves the registry’s patterns disjoint: no type a kind carries is listed twice', () => {
    const patterns = eventPatterns();
    const types = [...OBJECT_KINDS.flatMap((k) => k.eventTypes), 'charge.refund.updated', 'charge.dispute.created', 'customer.subscription.created'];
    for (const t of types) expect([t, patterns.filter((p) => patternMatches(p, t)).length]).toEqual([t, 1]);
  });
});
