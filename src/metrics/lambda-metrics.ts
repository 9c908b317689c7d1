import { Metrics as EmfMetrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC, type AppliedOutcome, type Metrics, type NoticeOutcome, type WebhookOutcome } from './metrics';

/** CloudWatch namespace of every metric the functions emit; POWERTOOLS_METRICS_NAMESPACE overrides it. */
const DEFAULT_NAMESPACE = 'StripeBilling';
/** The `service` dimension on every metric; POWERTOOLS_SERVICE_NAME overrides it. */
const DEFAULT_SERVICE = 'stripe-billing';

/**
 * Powertools flushes by itself once a metric holds 100 values, and that flush drops the dimensions
 * added for the blob: a chunk stays below it so each blob keeps its own.
 */
const MAX_VALUES_PER_BLOB = 99;

type Unit = typeof MetricUnit.Count | typeof MetricUnit.Seconds;

/** The data points of one dimension set (one combination of label values) since the last flush. */
interface Group {
  dimensions: Record<string, string>;
  counts: Map<string, number>;
  seconds: Map<string, number[]>;
}

export interface LambdaMetricsOptions {
  namespace?: string;
  service?: string;
}

/**
 * The same names and labels as the Prometheus registry, as CloudWatch embedded metric format on
 * stdout (Powertools Metrics): counters in Count, histograms as their observations in Seconds
 * (CloudWatch computes the percentiles), labels as dimensions beside `service`. A blob holds one
 * dimension set only, since EMF applies a blob's dimensions to every metric in it: the data points
 * are grouped by label values and each group is published as blobs of its own. Buffered during an
 * invocation; flush() at its end writes them.
 */
export class LambdaMetrics implements Metrics {
  private readonly emf: EmfMetrics;
  private readonly groups = new Map<string, Group>();

  constructor(o: LambdaMetricsOptions = {}) {
    this.emf = new EmfMetrics({ namespace: o.namespace || DEFAULT_NAMESPACE, serviceName: o.service || DEFAULT_SERVICE });
  }

  private group(dimensions: Record<string, string>): Group {
    const key = JSON.stringify(dimensions);
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { dimensions, counts: new Map(), seconds: new Map() }));
    return g;
  }

  private count(name: string, dimensions: Record<string, string>): void {
    const g = this.group(dimensions);
    g.counts.set(name, (g.counts.get(name) ?? 0) + 1);
  }

  private observe(name: string, seconds: number): void {
    const g = this.group({});
    const values = g.seconds.get(name) ?? [];
    values.push(seconds);
    g.seconds.set(name, values);
  }

  webhook(outcome: WebhookOutcome, seconds: number): void {
    this.count(METRIC.webhookRequests, { outcome });
    this.observe(METRIC.webhookDuration, seconds);
  }

  eventApplied(object: string, outcome: AppliedOutcome, lagSeconds?: number): void {
    this.count(METRIC.eventsApplied, { object, outcome });
    if (lagSeconds !== undefined) this.observe(METRIC.eventLag, lagSeconds);
  }

  notice(kind: string, outcome: NoticeOutcome): void {
    this.count(METRIC.notices, { kind, outcome });
  }

  sweepRun(): void {
    this.count(METRIC.sweepRuns, {});
  }

  /** billing_outbox_oldest_pending_seconds: a gauge, sampled by the mailer function at each run. */
  outboxOldestPending(seconds: number): void {
    this.observe(METRIC.outboxOldestPending, seconds);
  }

  /** Writes what was counted since the last flush, one blob per dimension set (more if one holds many values). */
  flush(): void {
    for (const g of this.groups.values()) {
      const series: Array<{ name: string; unit: Unit; values: number[] }> = [
        ...[...g.counts].map(([name, n]) => ({ name, unit: MetricUnit.Count, values: [n] })),
        ...[...g.seconds].map(([name, values]) => ({ name, unit: MetricUnit.Seconds, values })),
      ];
      const longest = Math.max(...series.map((s) => s.values.length));
      for (let from = 0; from < longest; from += MAX_VALUES_PER_BLOB) {
        if (Object.keys(g.dimensions).length > 0) this.emf.addDimensions(g.dimensions);
        for (const s of series) for (const v of s.values.slice(from, from + MAX_VALUES_PER_BLOB)) this.emf.addMetric(s.name, s.unit, v);
        this.emf.publishStoredMetrics();
      }
    }
    this.groups.clear();
  }
}
