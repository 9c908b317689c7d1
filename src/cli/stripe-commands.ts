import type { Command } from 'commander';
import { lazy } from './lazy';

const sync = () => require('../commands/stripe-sync') as typeof import('../commands/stripe-sync');

const ENV_HELP = `
Needs STRIPE_SECRET_KEY (a secret or restricted key that reads events, invoices, invoice
payments, charges, refunds and credit notes) and DATABASE_URL. STRIPE_API_BASE points at another API server (stripe-mock, a test
double).`;

export function defineStripeCommands(program: Command): void {
  program
    .command('import')
    .description('adopting an account: bring in its existing invoices, with their payments, charges and credit notes, as the baseline, emailing no one about them')
    .option('--since <iso>', 'invoices created at or after this moment (required), e.g. 2025-01-01; their payments, charges and credit notes come with them')
    .option('--until <iso>', 'invoices created at or before this moment (default: now)')
    .option('--account <acct_id>', "a connected account's invoices (Stripe Connect), read as that account; without it, the platform's own")
    .option('--dry-run', 'count what would be inserted and updated; write nothing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `${ENV_HELP}

Each invoice is merged into its row as an event would be (never moving a row back), and every
email it implies is recorded as skipped (imported): customers hear only of what happens from
now on, and overdue reminders continue from each invoice's next step. Running it again changes
nothing; if it stops part way, run the same command again to finish.

Stripe Connect: --account acct_… reads a connected account's invoices and the money behind them
as that account (every request sends Stripe-Account) and stores them with that account. Run it
once per account.

Examples:
  billing import --since 2025-01-01 --dry-run
  billing import --since 2025-01-01 --account acct_1PgcA2B7WZ01zgkW`,
    )
    .action(lazy(sync, (m) => m.runImport));

  program
    .command('backfill')
    .description('after an outage: enqueue the events Stripe still lists (30 days) that were never stored, of every object kept')
    .option('--since <iso>', 'events created at or after this moment (required), e.g. 2026-11-01T09:00:00Z')
    .option('--until <iso>', 'events created at or before this moment (default: now)')
    .option('--account <acct_id>', "a connected account's events (Stripe Connect), listed as that account and enqueued naming it; without it, the platform's own")
    .option('--dry-run', 'list what would be enqueued; send nothing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `${ENV_HELP} Events go to SQS_QUEUE_URL, or to the embedded queue of a running
\`npm start\`. The notices of events older than NOTICE_MAX_EVENT_AGE_HOURS (72) are
recorded as skipped (stale), not sent.

Examples:
  billing backfill --since 2026-11-03T08:00:00Z --until 2026-11-03T12:00:00Z --dry-run
  billing backfill --since 2026-11-03T08:00:00Z --account acct_1PgcA2B7WZ01zgkW`,
    )
    .action(lazy(sync, (m) => m.runBackfill));

  program
    .command('reconcile')
    .description("compare invoices, and their payments, charges, refunds and credit notes, with Stripe's API and repair rows that differ; reports each difference")
    .option('--since <iso>', 'invoices created at or after this moment (required unless --alerts); their payments, charges and credit notes come with them')
    .option('--until <iso>', 'invoices created at or before this moment (default: now)')
    .option('--account <acct_id>', "a connected account's invoices (Stripe Connect), read as that account; without it, the platform's own (needs --since)")
    .option('--alerts', "also repair (or alone, without --since) the objects of Stripe's health alerts that are still pending")
    .option('--dry-run', 'report the differences; write nothing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `${ENV_HELP}

--alerts: Stripe sends v2.core.health.event_generation_failure.resolved when it failed to
generate events for an object; those events are not in the Events API either. The worker
repairs the object at once when STRIPE_SECRET_KEY is set; alerts received without it wait
(\`billing stats\` counts them) until \`billing reconcile --alerts\` reads each object again.

Repairs overwrite the row with Stripe's state and queue the notices the repaired transition
implies (each once per invoice and kind, however often reconcile runs; one about something
older than NOTICE_MAX_EVENT_AGE_HOURS is recorded as skipped, stale). Rows it has to insert are
a baseline, as with import: their notices are recorded as skipped (imported), none is sent.

Examples:
  billing reconcile --since 2026-10-01 --dry-run
  billing reconcile --since 2026-10-01 --account acct_1PgcA2B7WZ01zgkW
  billing reconcile --alerts`,
    )
    .action(lazy(sync, (m) => m.runReconcile));
}
