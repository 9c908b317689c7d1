/**
 * What the installed `stripe` package says Stripe accepts when a webhook endpoint is created: its
 * event types and API versions. The SDK keeps them only as TypeScript unions, so they are read
 * from its declaration file; the test server then refuses what Stripe would refuse, and grows
 * with each SDK upgrade without a hand-kept copy.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface WebhookCatalog {
  /** Every type `enabled_events` may name, `*` included. */
  eventTypes: ReadonlySet<string>;
  apiVersions: ReadonlySet<string>;
}

let cached: WebhookCatalog | undefined;

const quoted = (union: string) => new Set([...union.matchAll(/'([^']+)'/g)].map((m) => m[1] as string));

export function webhookCatalog(): WebhookCatalog {
  if (cached) return cached;
  const file = path.join(path.dirname(require.resolve('stripe')), 'resources', 'WebhookEndpoints.d.ts');
  const source = fs.readFileSync(file, 'utf8');
  const block = /namespace WebhookEndpointCreateParams \{\s*type EnabledEvent = ([^;]+);\s*type ApiVersion = ([^;]+);/.exec(source);
  if (!block) throw new Error(`${file}: WebhookEndpointCreateParams.EnabledEvent / ApiVersion not found; the stripe package changed its layout`);
  cached = { eventTypes: quoted(block[1] as string), apiVersions: quoted(block[2] as string) };
  if (!cached.eventTypes.has('*') || cached.apiVersions.size === 0) throw new Error(`${file}: unexpected WebhookEndpointCreateParams unions`);
  return cached;
}
