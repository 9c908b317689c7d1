/**
 * What the processor counts, whatever carries it: Prometheus' registry in a long-running process,
 * CloudWatch's embedded metric format on Lambda. Code that does the work reports through this
 * interface only, so both carry the same names, labels and values.
 *
 * Labels stay of low cardinality: an outcome, an object kind, a notice kind, a queue's role;
 * never an id.
 */
export const WEBHOOK_OUTCOMES = ['enqueued', 'ignored', 'rejected', 'too_large', 'queue_unavailable'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export const APPLIED_OUTCOMES = ['applied', 'unchanged', 'duplicate', 'failed', 'malformed'] as const;
export type AppliedOutcome = (typeof APPLIED_OUTCOMES)[number];

export const NOTICE_OUTCOMES = ['sent', 'skipped', 'failed', 'retried'] as const;
export type NoticeOutcome = (typeof NOTICE_OUTCOMES)[number];

export const QUEUE_ROLES = ['events', 'dlq'] as const;
export type QueueRole = (typeof QUEUE_ROLES)[number];

/** The object label of an event whose kind cannot be told (unreadable JSON, a type nobody handles). */
export const UNKNOWN_OBJECT = 'unknown';

/** The contract names, in base units; Prometheus and CloudWatch carry the same ones. */
export const METRIC = {
  webhookRequests: 'billing_webhook_requests_total',
  webhookDuration: 'billing_webhook_duration_seconds',
  eventsApplied: 'billing_events_applied_total',
  eventLag: 'billing_event_lag_seconds',
  queueMessages: 'billing_queue_messages',
  notices: 'billing_notices_total',
  outboxOldestPending: 'billing_outbox_oldest_pending_seconds',
  sweepRuns: 'billing_sweep_runs_total',
} as const;

export interface Metrics {
  /** billing_webhook_requests_total{outcome} and billing_webhook_duration_seconds. */
  webhook(outcome: WebhookOutcome, seconds: number): void;
  /**
   * billing_events_applied_total{object,outcome}; lagSeconds (commit time − the event's
   * `created`) goes to billing_event_lag_seconds when the event committed.
   */
  eventApplied(object: string, outcome: AppliedOutcome, lagSeconds?: number): void;
  /** billing_notices_total{kind,outcome}. */
  notice(kind: string, outcome: NoticeOutcome): void;
  /** billing_sweep_runs_total. */
  sweepRun(): void;
}

/** For code run where nothing is measured (CLI commands, tests that do not read metrics). */
export const noMetrics: Metrics = {
  webhook: () => undefined,
  eventApplied: () => undefined,
  notice: () => undefined,
  sweepRun: () => undefined,
};

/** Seconds elapsed since a process.hrtime.bigint() reading. */
export const secondsSince = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e9;
