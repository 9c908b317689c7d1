import { BillingError } from '../errors';

/** A bad argument: the CLI prints the message and exits 2. */
export class UsageError extends BillingError {
  override readonly name = 'UsageError';
  readonly retryable = false;
  override readonly exitCode = 2;
}

/** A command's answer on stdout: JSON for scripts, or text for a person. */
export function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}
