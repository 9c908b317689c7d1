#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from './config';
import { StartupError } from './run/resources';
import { setContact, showContact } from './commands/contacts';
import { listNotices, retryNotices } from './commands/notices';
import { registerFinanceCommands } from './commands/finance';
import { registerRecoveryCommands } from './commands/recovery';
import { registerStripeCommands } from './commands/stripe-sync';
import { UsageError } from './commands/with-database';
import { MissingStripeKeyError } from './stripe/api-client';
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

/** Commander's own argument errors exit 2, like ours (UsageError): a script can tell usage from failure. */
const ARGUMENT_ERRORS = new Set([
  'commander.unknownOption',
  'commander.unknownCommand',
  'commander.optionMissingArgument',
  'commander.missingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.excessArguments',
  'commander.invalidArgument',
]);

export function buildCli(): Command {
  const program = new Command('billing')
    .description('Stripe invoice events: verified webhooks → SQS → PostgreSQL invoice rows')
    .showHelpAfterError('(run billing --help for usage)')
    // Set before the commands are added, so every subcommand inherits it.
    .exitOverride((err) => {
      throw ARGUMENT_ERRORS.has(err.code) ? new CommanderError(2, err.code, err.message) : err;
    });

  program
    .command('dev')
    .description('webhook, worker, sweep and mailer in one process; embedded PostgreSQL and SQS unless configured (what npm start runs)')
    .action(async () => untilSignal(await start(['webhook', 'worker', 'mailer'])));

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
    .command('mailer')
    .description('send queued invoice emails over SMTP_URL (or as .eml files under DATA_DIR/mail)')
    .action(async () => untilSignal(await start(['mailer'])));

  const contacts = program.command('contacts').description("customers' billing contacts: who receives invoice emails");
  contacts
    .command('set')
    .description('set the addresses for a customer ("" clears one)')
    .argument('<customer>', 'Stripe customer id, cus_…')
    .option('--invoice-email <address>', 'receives invoice emails, before the invoice\'s customer_email')
    .option('--primary-email <address>', 'used when neither the invoice email nor the invoice has an address')
    .option('--json', 'print JSON')
    .action((customer: string, opts: { invoiceEmail?: string; primaryEmail?: string; json?: boolean }) => setContact(customer, opts));
  contacts
    .command('show')
    .description("show a customer's billing contact")
    .argument('<customer>', 'Stripe customer id, cus_…')
    .option('--json', 'print JSON')
    .action((customer: string, opts: { json?: boolean }) => showContact(customer, opts));

  const notices = program.command('notices').description('the invoice email outbox');
  notices
    .command('retry')
    .description('put failed notices (and, without --failed, those skipped for no recipient) back to pending')
    .option('--failed', 'only notices that failed')
    .option('--invoice <id>', 'only this invoice, in_…')
    .option('--json', 'print JSON')
    .action((opts: { failed?: boolean; invoice?: string; json?: boolean }) => retryNotices(opts));
  notices
    .command('list')
    .description('recent notices, newest first')
    .option('--invoice <id>', 'only this invoice, in_…')
    .option('--status <status>', 'pending, sent, failed or skipped')
    .option('--limit <n>', 'how many (default 50)')
    .option('--json', 'print JSON')
    .action((opts: { invoice?: string; status?: string; limit?: string; json?: boolean }) => listNotices(opts));

  registerRecoveryCommands(program);
  registerStripeCommands(program);
  registerFinanceCommands(program);

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
    // A command that finished but with a partial failure (some messages not moved) says so here.
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ConfigError || err instanceof StartupError || err instanceof UsageError || err instanceof MissingStripeKeyError) {
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
