import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { NoticePolicy } from '../billing/notice-plan';
import { wallClock } from '../clock';
import { sweepInvoices } from '../sweep/invoice-sweep';

/** Re-evaluates overdue flags and dunning reminders on a timer; a sweep that fails is logged and tried at the next tick. */
export function startSweeper(ds: DataSource, intervalSeconds: number, policy: NoticePolicy, logger: Logger): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = sweepInvoices(ds, wallClock(), policy)
      .then((r) => {
        if (r.reviewed > 0) logger.info({ flagged: r.flagged, reviewed: r.reviewed }, 'invoice sweep');
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
