#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from './config';
import { StartupError } from './run/resources';
import { migrate, requireQueueFor, start, type Running } from './run/commands';

/** Runs until SIGTERM or SIGINT, then stops cleanly: in-flight work finishes first. */
function untilSignal(running: Running): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      running.logger.info({ signal }, 'stopping');
      void running.stop().then(() => {
        running.logger.info('stopped');
        running.logger.flush?.();
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

export function buildCli(): Command {
  const program = new Command('billing')
    .description('Stripe invoice events: verified webhooks → SQS → PostgreSQL invoice rows')
    .showHelpAfterError('(run billing --help for usage)')
    .exitOverride();

  program
    .command('dev')
    .description('webhook, worker and overdue sweep in one process; embedded PostgreSQL and SQS unless configured (what npm start runs)')
    .action(async () => untilSignal(await start(['webhook', 'worker'])));

  program
    .command('serve')
    .description('the webhook endpoint only (needs SQS_QUEUE_URL and SQS_DLQ_URL)')
    .action(async () => {
      requireQueueFor('serve');
      await untilSignal(await start(['webhook']));
    });

  program
    .command('worker')
    .description('the queue consumer and overdue sweep only (needs SQS_QUEUE_URL and SQS_DLQ_URL)')
    .action(async () => {
      requireQueueFor('worker');
      await untilSignal(await start(['worker']));
    });

  program
    .command('migrate')
    .description('apply database migrations (they also run when the processor starts)')
    .action(async () => {
      const applied = await migrate();
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ConfigError || err instanceof StartupError) {
      process.stderr.write(`billing: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`billing: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
