import { redactUrl } from '../log';
import type { Database, Queue, Secrets } from './resources';

export interface BannerInput {
  url?: string;
  /** The billing pages' URL pattern, when this process serves them. */
  billingPageUrl?: string;
  /** GET /metrics of this process. */
  metricsUrl?: string;
  /** Whether METRICS_TOKEN guards it; the token itself is never printed. */
  metricsToken?: boolean;
  secrets?: Secrets;
  database?: Database;
  queue?: Queue;
  mailTarget?: string;
  roles: string[];
}

/** Quoted for a POSIX shell (the generated password is URL-safe base64, but a path may not be). */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The database, and for the embedded one a psql command ready to paste: its password is
 * generated and local, like the printed webhook secret. A configured URL's password never shows.
 */
function databaseLines(db: Database): string[] {
  const lines = [`  database        ${redactUrl(db.url)}   (${db.embedded ? 'embedded' : 'external'})`];
  const server = db.server;
  if (!server) return lines;
  lines.push(`  psql            psql ${shellQuote(server.url)}`);
  if (server.outsideDataDir && server.clusterDir) lines.push(`  database files  ${server.clusterDir}   (${server.outsideDataDir})`);
  if (server.runsAs) lines.push(`  PostgreSQL runs ${server.runsAs}`);
  return lines;
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
  if (b.billingPageUrl) lines.push(`  billing pages   ${b.billingPageUrl}   (npx billing portal-url cus_… prints a link)`);
  if (b.database) lines.push(...databaseLines(b.database));
  if (b.queue) {
    lines.push(`  queue           ${b.queue.url}   (${b.queue.embedded ? 'embedded' : 'external'})`);
    lines.push(`  dead letters    ${b.queue.dlqUrl}`);
  }
  if (b.mailTarget) lines.push(`  mail            ${b.mailTarget}`);
  if (b.metricsUrl) {
    lines.push(`  metrics         ${b.metricsUrl}   (${b.metricsToken ? 'Authorization: Bearer $METRICS_TOKEN' : 'open; set METRICS_TOKEN to require a bearer token'})`);
  }
  if (b.url) {
    const u = new URL(b.url);
    lines.push('', '  Forward events from Stripe with the Stripe CLI:');
    lines.push(`    stripe listen --forward-to localhost:${u.port}${u.pathname}`);
    lines.push('  It prints its own signing secret: restart with STRIPE_WEBHOOK_SECRET=<that secret> to accept its events.');
  }
  lines.push('');
  return lines.join('\n');
}
