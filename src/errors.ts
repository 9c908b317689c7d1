/**
 * The base of every error this product throws on purpose. The callers that must decide something
 * about a failure (the worker and the Lambda consumer: retry or not; the CLI: which exit status)
 * read these fields, never the class list or another library's message text.
 */
export abstract class BillingError extends Error {
  /** Whether the same work can succeed when tried again later, unchanged. */
  abstract readonly retryable: boolean;
  /** The CLI's exit status when this error ends a command: 2 for what the user must change, else 1. */
  readonly exitCode: number = 1;
}

/** Reads `retryable` off any error: ours say; anything else (a lost connection, a bug) is worth retrying. */
export const isRetryable = (err: unknown): boolean => !(err instanceof BillingError) || err.retryable;

/** A verified event (or an object read from Stripe's API) that cannot be used as it is; retrying will not help. */
export class MalformedEventError extends BillingError {
  override readonly name = 'MalformedEventError';
  readonly retryable = false;
}

/**
 * A long command (backfill, import) stopped part way; `partial` says how far it got. Running the
 * same command again finishes it: what was done is recognised and left as it is.
 */
export abstract class RunInterruptedError<T> extends BillingError {
  readonly retryable = true;
  constructor(
    message: string,
    readonly partial: T,
  ) {
    super(message);
  }
}

/**
 * An event (or an API read) of one Stripe account about an object whose row belongs to another:
 * the platform's own, or another connected account's. Stripe ids are unique across Stripe, so
 * this never happens with real events; a payload that says so is wrong, and it is refused rather
 * than let one account's data change another's. Retrying will not help.
 */
export class AccountMismatchError extends BillingError {
  override readonly name = 'AccountMismatchError';
  readonly retryable = false;
}

/** How a message names the owner of a row: a connected account by its id, else the platform. */
export const ownerName = (account: string | null): string => (account === null ? 'the platform' : `connected account ${account}`);
