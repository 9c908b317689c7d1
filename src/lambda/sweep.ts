import type { Context, ScheduledEvent } from 'aws-lambda';
import { wallClock } from '../clock';
import { noticePolicy } from '../effects/notice-effects';
import { sweepInvoices, sweepOptionsOf, type SweepResult } from '../sweep/invoice-sweep';
import type { LambdaRuntime } from './runtime';

/** EventBridge schedule (every 5 minutes) → overdue flags and the dunning notices that time brings due; a completed sweep counts one run. */
export function sweepHandler(rt: LambdaRuntime) {
  return async (_event: ScheduledEvent, context?: Pick<Context, 'awsRequestId'>): Promise<SweepResult> => {
    const config = await rt.config(['database']);
    const ds = await rt.dataSource();
    return rt.measured(async (metrics) => {
      const result = await sweepInvoices(ds, wallClock(), noticePolicy(config), sweepOptionsOf(config));
      metrics.sweepRun();
      if (result.eventPayloadPruneError) rt.logger(config).error({ requestId: context?.awsRequestId, err: result.eventPayloadPruneError }, 'event payload prune failed; the next sweep tries again');
      if (result.billingPageHitsPruneError) rt.logger(config).warn({ requestId: context?.awsRequestId, err: result.billingPageHitsPruneError }, 'billing page rate-limit prune failed; the next sweep tries again');
      const pruned = result.eventPayloadsPruned ? { eventPayloadsPruned: result.eventPayloadsPruned } : {};
      rt.logger(config).info({ requestId: context?.awsRequestId, flagged: result.flagged, reviewed: result.reviewed, ...pruned }, 'invoice sweep');
      return result;
    });
  };
}
