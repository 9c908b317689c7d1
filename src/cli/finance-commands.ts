import type { Command } from 'commander';
import { CREDIT_NOTE_STATUS_CHOICES, DEFAULT_INVOICE_LIMIT, INVOICE_STATUS_CHOICES, PAYMENT_STATUS_CHOICES } from '../commands/finance-choices';
import { lazy } from './lazy';

const finance = () => require('../commands/finance') as typeof import('../commands/finance');
const wallet = () => require('../commands/wallet') as typeof import('../commands/wallet');

/** `--account` of the listings (Stripe Connect). */
export const ACCOUNT_HELP = "only a connected account's (Stripe Connect), acct_…, or `platform` for the platform's own";

export function defineFinanceCommands(program: Command): void {
  program
    .command('invoices')
    .description('invoices as finance sees them (the finance_invoices view): newest first, overdue ones oldest due first')
    .option('--status <status>', `${INVOICE_STATUS_CHOICES.join(', ')} (overdue: open, past due, money owed; open includes overdue)`)
    .option('--overdue', 'only overdue invoices, oldest due first (same as --status overdue)')
    .option('--customer <id>', 'only this customer, cus_…')
    .option('--since <iso>', 'created at Stripe at or after this moment: 2026-11-01 or 2026-11-01T09:30:00Z')
    .option('--until <iso>', 'created at Stripe before this moment')
    .option('--limit <n>', `at most this many (default ${DEFAULT_INVOICE_LIMIT}; a note on stderr says when more match)`)
    .option('--account <acct_id>', ACCOUNT_HELP)
    .option('--format <format>', 'table (default), csv (for spreadsheets) or json')
    .action(lazy(finance, (m) => m.invoicesCommand));

  program
    .command('aging')
    .description('open receivables by currency and days past due: current, 1-30, 31-60, 61-90, 90+ (the receivables_aging view)')
    .option('--account <acct_id>', ACCOUNT_HELP)
    .option('--format <format>', 'table (default), csv (one row per currency and bucket) or json')
    .action(lazy(finance, (m) => m.agingCommand));

  program
    .command('payments')
    .description('invoice payments with their charge, receipt and refunds (the finance_payments view), newest first')
    .option('--invoice <id>', 'only this invoice\'s payments, in_…')
    .option('--customer <id>', 'only this customer, cus_…')
    .option('--status <status>', `Stripe's status of the payment: ${PAYMENT_STATUS_CHOICES.join(', ')}`)
    .option('--since <iso>', 'created at Stripe at or after this moment: 2026-11-01 or 2026-11-01T09:30:00Z')
    .option('--until <iso>', 'created at Stripe before this moment')
    .option('--limit <n>', `at most this many (default ${DEFAULT_INVOICE_LIMIT}; a note on stderr says when more match)`)
    .option('--format <format>', 'table (default), csv (for spreadsheets) or json')
    .action(lazy(finance, (m) => m.paymentsCommand));

  program
    .command('credit-notes')
    .description('credit notes with their invoice and amounts before and after payment (the finance_credit_notes view), newest first')
    .option('--invoice <id>', 'only this invoice\'s credit notes, in_…')
    .option('--customer <id>', 'only this customer, cus_…')
    .option('--status <status>', CREDIT_NOTE_STATUS_CHOICES.join(' or '))
    .option('--since <iso>', 'created at Stripe at or after this moment: 2026-11-01 or 2026-11-01T09:30:00Z')
    .option('--until <iso>', 'created at Stripe before this moment')
    .option('--limit <n>', `at most this many (default ${DEFAULT_INVOICE_LIMIT}; a note on stderr says when more match)`)
    .option('--format <format>', 'table (default), csv (for spreadsheets) or json')
    .action(lazy(finance, (m) => m.creditNotesCommand));

  program
    .command('wallet')
    .description("a customer's prepaid wallet: balance and amount owed per currency (wallet_balances), then its ledger entries newest first (finance_wallet_ledger)")
    .argument('<customer>', 'the Stripe customer, cus_…')
    .option('--account <acct_id>', ACCOUNT_HELP)
    .option('--format <format>', 'table (default), csv (the entries, one row each) or json (balances and entries)')
    .action(lazy(wallet, (m) => m.walletCommand));
}
