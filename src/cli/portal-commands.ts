import type { Command } from 'commander';
import { DEFAULT_TTL } from '../billing-page/link';
import { lazy } from './lazy';

const portal = () => require('../commands/portal-url') as typeof import('../commands/portal-url');

export function definePortalCommands(program: Command): void {
  program
    .command('portal-url')
    .description("print a signed link to a customer's billing page (GET /billing/<token>, same port as the webhook)")
    .argument('<customer>', 'the Stripe customer, cus_…')
    .option('--account <acct_id>', "the connected account the customer belongs to (Stripe Connect); leave out for the platform's own")
    .option('--role <role>', 'admin (may pay) or member (sees the page without Pay now)', 'admin')
    .option('--ttl <duration>', 'how long the link works: 30m, 12h, 7d (at most 31d)', DEFAULT_TTL)
    .option('--base-url <url>', 'where the page is served (default PORTAL_BASE_URL, else http://HOST:PORT)')
    .option('--json', 'print the link with its customer, account, role and expiry as JSON')
    .action(lazy(portal, (m) => m.portalUrlCommand));
}
