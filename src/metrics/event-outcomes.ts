import { isRetryable } from '../errors';
import type { BatchOutcome } from '../pipeline/types';
import { HEALTH_ALERT_OBJECT } from '../stripe-objects/health-alert';
import { OBJECT_KINDS } from '../stripe-objects/registry';
import { UNKNOWN_OBJECT, type AppliedOutcome, type Metrics } from './metrics';

/** The object label's values: the registry's kinds, Stripe's health alerts, and `unknown`. */
export const OBJECT_LABELS: readonly string[] = [...OBJECT_KINDS.map((k) => k.object), HEALTH_ALERT_OBJECT, UNKNOWN_OBJECT];

export interface EventMeasure {
  object: string;
  outcome: AppliedOutcome;
  /** Commit time − the event's `created`; only for an event this commit applied (applied, unchanged). */
  lagSeconds?: number;
}

const known = new Set(OBJECT_LABELS);
const objectLabel = (object: string | undefined) => (object !== undefined && known.has(object) ? object : UNKNOWN_OBJECT);

/**
 * What one message's outcome counts as. A failure that can never succeed (isRetryable false: an
 * unreadable or unusable event) is `malformed`; any other is `failed`, and is received again. A
 * duplicate has no lag: its event was applied before, perhaps long ago, and its `created` says
 * nothing about how far behind the processor is, nor does a forced replay's (`reapplied`) of an
 * event applied before. `created` has one-second resolution and Stripe's
 * clock is not ours, so a lag below zero reads as zero.
 */
export function measureOutcome(o: BatchOutcome, committedAtSeconds: number): EventMeasure {
  if (!o.ok) return { object: objectLabel(o.object), outcome: isRetryable(o.error) ? 'failed' : 'malformed' };
  const object = objectLabel(o.result.object);
  const lag = o.result.reapplied ? {} : { lagSeconds: Math.max(0, committedAtSeconds - o.result.created) };
  switch (o.result.outcome) {
    case 'duplicate':
      return { object, outcome: 'duplicate' };
    case 'merged':
      return { object, outcome: 'applied', ...lag };
    case 'unchanged':
      return { object, outcome: 'unchanged', ...lag };
  }
}

/** Reports a batch's outcomes, each once: the one way the worker and the Lambda consumer count events. */
export function reportOutcomes(metrics: Metrics, outcomes: readonly BatchOutcome[], committedAtSeconds: number): void {
  for (const o of outcomes) {
    const m = measureOutcome(o, committedAtSeconds);
    metrics.eventApplied(m.object, m.outcome, m.lagSeconds);
  }
}
