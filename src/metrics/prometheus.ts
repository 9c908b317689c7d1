import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { NOTICE_KINDS } from '../billing/notice-kinds';
import { oldestDueNoticeSeconds } from '../db/notice-outbox';
import { OBJECT_LABELS } from './event-outcomes';
import {
  APPLIED_OUTCOMES,
  METRIC,
  NOTICE_OUTCOMES,
  QUEUE_ROLES,
  WEBHOOK_OUTCOMES,
  type AppliedOutcome,
  type Metrics,
  type NoticeOutcome,
  type WebhookOutcome,
} from './metrics';
import { queueDepths, type QueueUrls } from './queue-depth';
import { Sampler } from './sampler';

/** How often the queue's depth may be asked of SQS, however often Prometheus scrapes (each call is billed). */
export const QUEUE_SAMPLE_MS = 15_000;

/** Request to answer: a webhook takes milliseconds; Stripe gives up on an answer after seconds. */
const WEBHOOK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Stripe's `created` to our commit: seconds normally, hours after an outage; 60 s is the alert's edge. */
const LAG_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 21600, 86400];

export interface PrometheusOptions {
  /** What this process runs: only their series are registered, each label value shown at 0 from the first scrape. */
  roles: { webhook?: boolean; worker?: boolean; mailer?: boolean };
  /** The queues whose depth billing_queue_messages shows, sampled at most every QUEUE_SAMPLE_MS. */
  queue?: { sqs: SQSClient; urls: QueueUrls };
  /** The outbox's database: billing_outbox_oldest_pending_seconds is read at each scrape. */
  outbox?: DataSource;
  logger?: Logger;
  nowMs?: () => number;
}

/**
 * One process's metrics, in a registry of its own (not prom-client's global one), so that tests
 * can run several processes side by side. A series that starts at zero is there from the first
 * scrape, so that rate() and alerts work before the first event of its kind.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly webhookRequests = new Map<WebhookOutcome, Counter.Internal>();
  private readonly webhookDuration: Histogram | undefined;
  private readonly eventsApplied: Counter<'object' | 'outcome'> | undefined;
  private readonly eventLag: Histogram | undefined;
  private readonly notices: Counter<'kind' | 'outcome'> | undefined;
  private readonly sweepRuns: Counter | undefined;

  constructor(o: PrometheusOptions) {
    const registers = [this.registry];
    const now = o.nowMs ?? Date.now;
    collectDefaultMetrics({ register: this.registry });

    if (o.roles.webhook) {
      const requests = new Counter({ name: METRIC.webhookRequests, help: 'Webhook requests answered, by outcome', labelNames: ['outcome'], registers });
      // Bound once: the webhook's path then pays no label lookup.
      for (const outcome of WEBHOOK_OUTCOMES) this.webhookRequests.set(outcome, requests.labels({ outcome }));
      for (const child of this.webhookRequests.values()) child.inc(0);
      this.webhookDuration = new Histogram({ name: METRIC.webhookDuration, help: 'Webhook request to answer, in seconds', buckets: WEBHOOK_BUCKETS, registers });
    }
    if (o.roles.worker) {
      this.eventsApplied = new Counter({ name: METRIC.eventsApplied, help: 'Queue messages processed, by object and outcome', labelNames: ['object', 'outcome'], registers });
      for (const object of OBJECT_LABELS) for (const outcome of APPLIED_OUTCOMES) this.eventsApplied.inc({ object, outcome }, 0);
      this.eventLag = new Histogram({ name: METRIC.eventLag, help: "Commit time minus the event's created, in seconds, for events applied", buckets: LAG_BUCKETS, registers });
      this.sweepRuns = new Counter({ name: METRIC.sweepRuns, help: 'Overdue and dunning sweeps completed', registers });
    }
    if (o.roles.mailer) {
      this.notices = new Counter({ name: METRIC.notices, help: 'Notices the mailer settled or retried, by kind and outcome', labelNames: ['kind', 'outcome'], registers });
      for (const kind of NOTICE_KINDS) for (const outcome of NOTICE_OUTCOMES) this.notices.inc({ kind, outcome }, 0);
    }

    const queue = o.queue;
    if (queue) {
      const sampler = new Sampler(() => queueDepths(queue.sqs, queue.urls), QUEUE_SAMPLE_MS, now, (err) =>
        o.logger?.warn({ err: (err as Error).message }, 'cannot read the queue depth for /metrics'),
      );
      const gauge: Gauge<'queue'> = new Gauge({
        name: METRIC.queueMessages,
        help: `Messages in the events queue and its DLQ (SQS ApproximateNumberOfMessages), sampled at most every ${QUEUE_SAMPLE_MS / 1000} s`,
        labelNames: ['queue'],
        registers,
        collect: async () => {
          const depths = await sampler.get();
          // Unknown shows as NaN rather than as a stale or zero depth; no comparison holds for NaN.
          for (const role of QUEUE_ROLES) gauge.set({ queue: role }, depths ? depths[role] : NaN);
        },
      });
    }
    const outbox = o.outbox;
    if (outbox) {
      const gauge: Gauge = new Gauge({
        name: METRIC.outboxOldestPending,
        help: 'Age of the oldest notice due to be sent now, in seconds since it was queued; 0 when none is due',
        registers,
        collect: async () => {
          try {
            gauge.set(await oldestDueNoticeSeconds(outbox.manager, now() / 1000));
          } catch (err) {
            gauge.set(NaN);
            o.logger?.warn({ err: (err as Error).message }, 'cannot read the outbox for /metrics');
          }
        },
      });
    }
  }

  webhook(outcome: WebhookOutcome, seconds: number): void {
    this.webhookRequests.get(outcome)?.inc();
    this.webhookDuration?.observe(seconds);
  }

  eventApplied(object: string, outcome: AppliedOutcome, lagSeconds?: number): void {
    this.eventsApplied?.inc({ object, outcome });
    if (lagSeconds !== undefined) this.eventLag?.observe(lagSeconds);
  }

  notice(kind: string, outcome: NoticeOutcome): void {
    this.notices?.inc({ kind, outcome });
  }

  sweepRun(): void {
    this.sweepRuns?.inc();
  }

  /** The exposition, in Prometheus' text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
