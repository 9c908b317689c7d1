import { redactUrl } from '../log';
import type { Database, Queue, Secrets } from './resources';

export interface BannerInput {
  url?: string;
  secrets?: Secrets;
  database?: Database;
  queue?: Queue;
  mailTarget?: string;
  roles: string[];
}

/** What a person needs to start sending events; a configured secret is never shown. */
export function banner(b: BannerInput): string {
  const lines = ['', `stripe-billing ${b.roles.join(' + ')}`];
  if (b.url) lines.push(`  webhook URL     ${b.url}`);
  if (b.secrets) {
    lines.push(
      b.secrets.generated
        ? `  signing secret  ${b.secrets.values[0]}   (generated, kept under DATA_DIR)`
        : `  signing secret  from STRIPE_WEBHOOK_SECRET (${b.secrets.values.length} configured)`,
    );
  }
  if (b.database) lines.push(`  database        ${redactUrl(b.database.url)}   (${b.database.embedded ? 'embedded' : 'external'})`);
  if (b.queue) {
    lines.push(`  queue           ${b.queue.url}   (${b.queue.embedded ? 'embedded' : 'external'})`);
    lines.push(`  dead letters    ${b.queue.dlqUrl}`);
  }
  if (b.mailTarget) lines.push(`  mail            ${b.mailTarget}`);
  if (b.url) {
    const u = new URL(b.url);
    lines.push('', '  Forward events from Stripe with the Stripe CLI:');
    lines.push(`    stripe listen --forward-to localhost:${u.port}${u.pathname}`);
    lines.push('  It prints its own signing secret: restart with STRIPE_WEBHOOK_SECRET=<that secret> to accept its events.');
  }
  lines.push('');
  return lines.join('\n');
}
