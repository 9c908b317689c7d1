import { WALLET_BALANCE_COLUMNS, WALLET_ENTRY_COLUMNS } from '../db/finance-columns';
import { walletOf } from '../db/wallet-ledger';
import { toCsv } from '../read-models/csv';
import { walletTable } from '../read-models/human';
import { toJsonRecord } from '../read-models/json-record';
import { accountScopeOption, choiceOption, CUSTOMER_ID } from './options';
import { UsageError } from './usage';
import { withDatabase } from './with-database';

const FORMATS = ['table', 'csv', 'json'] as const;

/**
 * `billing wallet cus_…`: the customer's balance and amount owed per currency, and the ledger
 * entries newest first. CSV is the entries (one row each, for a spreadsheet); JSON holds both.
 */
export async function walletCommand(customer: string, opts: { account?: string; format?: string }): Promise<void> {
  if (!CUSTOMER_ID.test(customer)) throw new UsageError('wallet: not a Stripe customer id: expected cus_…');
  const format = choiceOption(opts.format, '--format', FORMATS, 'table');
  const account = accountScopeOption(opts.account);
  const { balances, entries } = await withDatabase((ds) => walletOf(ds.manager, customer, account));
  if (format === 'csv') process.stdout.write(toCsv(entries, WALLET_ENTRY_COLUMNS));
  else if (format === 'json') {
    const wallet = {
      customer_id: customer,
      ...(account === undefined ? {} : { account: account ?? 'platform' }),
      balances: balances.map((r) => toJsonRecord(r, WALLET_BALANCE_COLUMNS)),
      entries: entries.map((r) => toJsonRecord(r, WALLET_ENTRY_COLUMNS)),
    };
    process.stdout.write(`${JSON.stringify(wallet, null, 2)}\n`);
  } else process.stdout.write(`${walletTable(customer, balances, entries)}\n`);
}
