import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { sweepOverdue } from '../sweep/overdue-sweep';

/** Re-evaluates overdue flags on a timer; a sweep that fails is logged and tried at the next tick. */
export function startSweeper(ds: DataSource, intervalSeconds: number, logger: Logger): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = sweepOverdue(ds, Math.floor(Date.now() / 1000))
      .then((r) => {
        if (r.flagged > 0) logger.info({ flagged: r.flagged }, 'overdue sweep');
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
