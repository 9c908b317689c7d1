import type { Command } from 'commander';
import { lazy } from './lazy';

const contactsCode = () => require('../commands/contacts') as typeof import('../commands/contacts');
const noticesCode = () => require('../commands/notices') as typeof import('../commands/notices');

export function defineOutboxCommands(program: Command): void {
  const contacts = program.command('contacts').description("customers' billing contacts: who receives invoice emails");
  contacts
    .command('set')
    .description('set the addresses for a customer ("" clears one)')
    .argument('<customer>', 'Stripe customer id, cus_…')
    .option('--invoice-email <address>', "receives invoice emails, before the invoice's customer_email")
    .option('--primary-email <address>', "used when neither the invoice email nor the invoice has an address; the customer's next newer Stripe event replaces it")
    .option('--json', 'print JSON')
    .action(lazy(contactsCode, (m) => m.setContact));
  contacts
    .command('show')
    .description("show a customer's billing contact")
    .argument('<customer>', 'Stripe customer id, cus_…')
    .option('--json', 'print JSON')
    .action(lazy(contactsCode, (m) => m.showContact));

  const notices = program.command('notices').description('the invoice email outbox');
  notices
    .command('retry')
    .description('put failed notices (and, without --failed, those skipped for no recipient) back to pending')
    .option('--failed', 'only notices that failed')
    .option('--invoice <id>', 'only this invoice, in_…')
    .option('--json', 'print JSON')
    .action(lazy(noticesCode, (m) => m.retryNotices));
  notices
    .command('list')
    .description('recent notices, newest first')
    .option('--invoice <id>', 'only this invoice, in_…')
    .option('--status <status>', 'pending, sent, failed or skipped')
    .option('--limit <n>', 'how many (default 50)')
    .option('--json', 'print JSON')
    .action(lazy(noticesCode, (m) => m.listNotices));
}
