#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { defineEndpointCommands } from './cli/endpoint-commands';
import { defineFinanceCommands } from './cli/finance-commands';
import { defineOutboxCommands } from './cli/outbox-commands';
import { definePortalCommands } from './cli/portal-commands';
import { defineRecoveryCommands } from './cli/recovery-commands';
import { defineRunCommands } from './cli/run-commands';
import { defineStripeCommands } from './cli/stripe-commands';
import { BillingError } from './errors';

/**
 * Commander's own argument errors exit 2, like ours: a script can tell usage from failure. A
 * command group called without its subcommand (`billing replay`) prints its help as an error
 * (`commander.help` with a non-zero code); help asked for (`billing help replay`) exits 0.
 */
const ARGUMENT_ERRORS = new Set([
  'commander.unknownOption',
  'commander.unknownCommand',
  'commander.optionMissingArgument',
  'commander.missingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.excessArguments',
  'commander.invalidArgument',
  'commander.help',
]);

/**
 * The whole command line. Only definitions live here; each command loads its code when it runs
 * (src/cli/lazy.ts), so `--help` and the finance commands start in a fraction of a second.
 */
export function buildCli(): Command {
  const program = new Command('billing')
    .description('Stripe invoice events: verified webhooks → SQS → PostgreSQL invoice rows')
    .showHelpAfterError('(run billing --help for usage)')
    // Set before the commands are added, so every subcommand inherits it.
    .exitOverride((err) => {
      throw ARGUMENT_ERRORS.has(err.code) && err.exitCode !== 0 ? new CommanderError(2, err.code, err.message) : err;
    });
  defineRunCommands(program);
  defineOutboxCommands(program);
  defineRecoveryCommands(program);
  defineStripeCommands(program);
  defineEndpointCommands(program);
  defineFinanceCommands(program);
  definePortalCommands(program);
  return program;
}

/**
 * Our errors carry their exit status: 2 for what to fix (bad arguments or configuration, a
 * service that cannot be reached at start, a missing key), else 1. Anything else exits 1.
 */
const exitCodeOf = (err: unknown): number => (err instanceof BillingError ? err.exitCode : 1);

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    // A command that finished but with a partial failure (some messages not moved) says so here.
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`billing: ${(err as Error).message}\n`);
    return exitCodeOf(err);
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
