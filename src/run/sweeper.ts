import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { NoticePolicy } from '../billing/notice-plan';
import { wallClock } from '../clock';
import { noMetrics, type Metrics } from '../metrics/metrics';
import { sweepInvoices, type SweepOptions } from '../sweep/invoice-sweep';

/**
 * Re-evaluates overdue flags and dunning reminders on a timer; a sweep that fails is logged and
 * tried at the next tick. Each sweep that completes is counted (billing_sweep_runs_total), so a
 * sweep that keeps failing shows as one that stopped running.
 */
export function startSweeper(
  ds: DataSource,
  intervalSeconds: number,
  policy: NoticePolicy,
  logger: Logger,
  metrics: Metrics = noMetrics,
  sweep: SweepOptions = {},
): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = sweepInvoices(ds, wallClock(), policy, sweep)
      .then((r) => {
        metrics.sweepRun();
        if (r.eventPayloadPruneError) logger.error({ err: r.eventPayloadPruneError }, 'event payload prune failed; the next sweep tries again');
        if (r.billingPageHitsPruneError) logger.warn({ err: r.billingPageHitsPruneError }, 'billing page rate-limit prune failed; the next sweep tries again');
        if (r.reviewed > 0 || r.eventPayloadsPruned) {
          logger.info({ flagged: r.flagged, reviewed: r.reviewed, ...(r.eventPayloadsPruned ? { eventPayloadsPruned: r.eventPayloadsPruned } : {}) }, 'invoice sweep');
        }
      })
      .catch((err: Error) => logger.error({ err: err.message }, 'overdue sweep failed'));
  };
  tick();
  const timer = setInterval(tick, intervalSeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
