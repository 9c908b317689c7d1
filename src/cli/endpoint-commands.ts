import type { Command } from 'commander';
import { lazy } from './lazy';

const createCode = () => require('../commands/endpoint-create') as typeof import('../commands/endpoint-create');
const checkCode = () => require('../commands/endpoint-check') as typeof import('../commands/endpoint-check');

const ENV_HELP = `
Needs STRIPE_SECRET_KEY: a secret key, or a restricted key with access to Webhook Endpoints
(write for create, read for check); its mode (test or live) is the mode of the endpoints.
STRIPE_API_BASE points at another API server (stripe-mock, a test double).`;

export function defineEndpointCommands(program: Command): void {
  const endpoint = program.command('endpoint').description("the Stripe webhook endpoint that posts to this processor: create it, check it");
  endpoint
    .command('create')
    .description("create the webhook endpoint through Stripe's API, subscribed to exactly the event types the processor keeps, and print its signing secret once")
    .option('--url <url>', 'where Stripe posts events (required, https), e.g. https://billing.example.com/webhooks/stripe')
    .option('--connect', "a Connect endpoint: the events of the platform's connected accounts")
    .option('--api-version <version>', "the API version its events are rendered in (default: the one this processor's Stripe SDK is built for)")
    .option('--description <text>', 'shown in the Dashboard')
    .option('--json', 'print JSON (the secret included)')
    .addHelpText(
      'after',
      `${ENV_HELP}

The endpoint is tagged metadata.managed_by = stripe-billing, which is how billing endpoint check
finds it. An endpoint that already posts to the URL is left alone and nothing is created (exit
2); an account endpoint and a Connect endpoint may share the URL. The secret is printed as the
line to set: STRIPE_WEBHOOK_SECRET=whsec_… (comma-separated with any secret already there).

Example:
  billing endpoint create --url https://billing.example.com/webhooks/stripe`,
    )
    .action(lazy(createCode, (m) => m.createEndpointCommand));
  endpoint
    .command('check')
    .description("say what is wrong with the endpoints tagged as ours (or at --url): disabled, event types missing or extra, another API version; exit 1 if anything is")
    .option('--url <url>', 'also check the endpoints posting to this URL, and fail when there is none')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `${ENV_HELP}

Exit status: 0 all good; 1 an endpoint needs attention, or no endpoint is ours (or at --url);
2 no STRIPE_SECRET_KEY or a bad argument. Made for a cron or CI job.

Example:
  billing endpoint check --url https://billing.example.com/webhooks/stripe --json`,
    )
    .action(lazy(checkCode, (m) => m.checkEndpointsCommand));
}
