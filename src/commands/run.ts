import { migrate, requireQueueFor, start, type Running } from '../run/start';

/**
 * Runs until SIGTERM or SIGINT, then stops cleanly: in-flight work finishes first. A second
 * signal while stopping (an impatient Ctrl-C) exits at once with 130; the exit still stops an
 * embedded PostgreSQL this process started, so nothing is left running.
 */
function untilSignal(running: Running): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        running.logger.warn({ signal }, 'stopping at once');
        running.logger.flush?.();
        process.exit(130);
      }
      stopping = true;
      running.logger.info({ signal }, 'stopping');
      void running.stop().then(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        running.logger.info('stopped');
        running.logger.flush?.();
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export const devCommand = async () => untilSignal(await start(['webhook', 'worker', 'mailer']));

export async function serveCommand(): Promise<void> {
  requireQueueFor('serve');
  await untilSignal(await start(['webhook']));
}

export async function workerCommand(): Promise<void> {
  requireQueueFor('worker');
  await untilSignal(await start(['worker']));
}

export const mailerCommand = async () => untilSignal(await start(['mailer']));

export async function migrateCommand(): Promise<void> {
  const applied = await migrate();
  process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
}
