import type { Command } from 'commander';
import { lazy } from './lazy';

const run = () => require('../commands/run') as typeof import('../commands/run');

export function defineRunCommands(program: Command): void {
  program
    .command('dev')
    .description('webhook, worker, sweep and mailer in one process; embedded PostgreSQL and SQS unless configured (what npm start runs)')
    .action(lazy(run, (m) => m.devCommand));

  program
    .command('serve')
    .description('the webhook endpoint only (needs SQS_QUEUE_URL and SQS_DLQ_URL)')
    .action(lazy(run, (m) => m.serveCommand));

  program
    .command('worker')
    .description('the queue consumer and overdue sweep only (needs SQS_QUEUE_URL and SQS_DLQ_URL)')
    .action(lazy(run, (m) => m.workerCommand));

  program
    .command('mailer')
    .description('send queued invoice emails over SMTP_URL (or as .eml files under DATA_DIR/mail)')
    .action(lazy(run, (m) => m.mailerCommand));

  program
    .command('migrate')
    .description('apply database migrations (they also run when the processor starts)')
    .action(lazy(run, (m) => m.migrateCommand));
}
