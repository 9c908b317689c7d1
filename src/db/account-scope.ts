/**
 * Which owner's rows a listing keeps (`--account`): undefined, every owner's; null, the
 * platform's own (rows whose stripe_account_id is null); `acct_…`, that connected account's.
 */
export type AccountScope = string | null | undefined;

/**
 * The scope as SQL over `column`, with two parameters, $n (the account, or null) and $n+1 (the
 * platform's own only), whose values accountParams gives. Written as `column = $n` so that an
 * index on the column serves a connected account's rows.
 */
export const accountWhere = (column: string, n: number): string =>
  `($${n}::text IS NULL OR ${column} = $${n}) AND ($${n + 1}::boolean IS NOT TRUE OR ${column} IS NULL)`;

export const accountParams = (scope: AccountScope): [string | null, boolean] => [scope ?? null, scope === null];

/** Whether a row's owner is in the scope: what accountWhere keeps, for rows read without it. */
export const inAccountScope = (scope: AccountScope, owner: string | null): boolean => scope === undefined || owner === scope;
