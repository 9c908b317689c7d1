import { MalformedEventError } from '../../src/errors';
import { measureOutcome, OBJECT_LABELS, reportOutcomes } from '../../src/metrics/event-outcomes';
import type { AppliedOutcome, Metrics } from '../../src/metrics/metrics';
import type { BatchOutcome, Outcome } from '../../src/pipeline/types';

const NOW = 1_700_000_100.25;

const ok = (outcome: Outcome, object = 'invoice', created = 1_700_000_090): BatchOutcome => ({
  ok: true,
  result: { outcome, eventId: 'evt_1', type: `${object}.updated`, object, objectId: 'x_1', created },
});

describe('what a message outcome counts as (measureOutcome)', () => {
  it('maps merged to applied and unchanged to unchanged, each with its lag from created to commit', () => {
    expect(measureOutcome(ok('merged'), NOW)).toEqual({ object: 'invoice', outcome: 'applied', lagSeconds: 10.25 });
    expect(measureOutcome(ok('unchanged', 'charge'), NOW)).toEqual({ object: 'charge', outcome: 'unchanged', lagSeconds: 10.25 });
  });

  it('gives a duplicate no lag: its created says nothing about how far behind the processor is', () => {
    expect(measureOutcome(ok('duplicate', 'refund', 1_600_000_000), NOW)).toEqual({ object: 'refund', outcome: 'duplicate' });
  });

  it('gives a forced replay of an event applied before no lag either: its created is as old as the replay is late', () => {
    const forced: BatchOutcome = { ok: true, result: { outcome: 'merged', eventId: 'evt_1', type: 'invoice.updated', object: 'invoice', objectId: 'x_1', created: 1_600_000_000, reapplied: true } };
    expect(measureOutcome(forced, NOW)).toEqual({ object: 'invoice', outcome: 'applied' });
  });

  it('reads a created after the commit (another clock, one-second resolution) as no lag, never a negative one', () => {
    expect(measureOutcome(ok('merged', 'invoice', NOW + 1), NOW)).toMatchObject({ lagSeconds: 0 });
  });

  it('counts a failure that can never succeed as malformed, any other as failed, without lag', () => {
    expect(measureOutcome({ ok: false, error: new MalformedEventError('cut JSON'), object: 'invoice' }, NOW)).toEqual({ object: 'invoice', outcome: 'malformed' });
    expect(measureOutcome({ ok: false, error: new Error('connection terminated'), object: 'credit_note' }, NOW)).toEqual({ object: 'credit_note', outcome: 'failed' });
    // Not ours: a lost connection, a bug, anything thrown that is not a BillingError is worth retrying.
    expect(measureOutcome({ ok: false, error: 'a string' }, NOW).outcome).toBe('failed');
  });

  it('labels the object unknown when it cannot be told, or is no kind of the registry', () => {
    expect(measureOutcome({ ok: false, error: new MalformedEventError('unreadable') }, NOW).object).toBe('unknown');
    expect(measureOutcome(ok('merged', 'subscription'), NOW).object).toBe('unknown');
  });

  it('has a label value for every kind of the registry, health alerts, and unknown', () => {
    expect(OBJECT_LABELS).toEqual(['invoice', 'invoice_payment', 'charge', 'refund', 'credit_note', 'customer', 'health_alert', 'unknown']);
  });
});

describe('reportOutcomes', () => {
  it('reports each outcome of a batch once, in order', () => {
    const seen: Array<[string, AppliedOutcome, number | undefined]> = [];
    const metrics: Metrics = { webhook: () => undefined, notice: () => undefined, sweepRun: () => undefined, eventApplied: (o, outcome, lag) => void seen.push([o, outcome, lag]) };
    reportOutcomes(metrics, [ok('merged'), ok('duplicate'), { ok: false, error: new MalformedEventError('x') }], NOW);
    expect(seen).toEqual([
      ['invoice', 'applied', 10.25],
      ['invoice', 'duplicate', undefined],
      ['unknown', 'malformed', undefined],
    ]);
  });
});
