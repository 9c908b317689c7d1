import type { CheckReport, EndpointFinding } from './endpoint-findings';
import { MANAGED_BY, MANAGED_BY_KEY } from './endpoint-findings';

/** What `endpoint create` reports; the secret appears in it once. */
export interface CreatedEndpoint {
  id: string;
  url: string;
  connect: boolean;
  apiVersion: string | null;
  eventTypes: string[];
  description: string | null;
  livemode: boolean;
  metadata: Record<string, string>;
  secret: string;
}

const mode = (livemode: boolean) => (livemode ? 'live mode' : 'test mode');
const kindText = (connect: boolean | null) => (connect === null ? 'made elsewhere' : connect ? 'Connect: events of connected accounts' : 'events of this account');

export function createdText(c: CreatedEndpoint): string {
  return [
    `created webhook endpoint ${c.id} (${mode(c.livemode)}) for ${c.url}`,
    `  ${kindText(c.connect)}; ${c.eventTypes.length} event types; API version ${c.apiVersion ?? "the account's default"}; metadata.${MANAGED_BY_KEY} = ${MANAGED_BY}`,
    '',
    "Its signing secret follows, shown this once: Stripe's API never returns it again (the Dashboard can reveal it).",
    'Give it to the processor; if STRIPE_WEBHOOK_SECRET already holds secrets (another endpoint, the other mode),',
    'add this one after a comma. On AWS it goes into the stripe-webhook-secret SSM parameter.',
    '',
    `STRIPE_WEBHOOK_SECRET=${c.secret}`,
  ].join('\n');
}

function problemLines(f: EndpointFinding, r: CheckReport): string[] {
  const lines: string[] = [];
  if (f.problems.includes('disabled')) lines.push(`  disabled (status ${f.status}): Stripe sends it nothing; enable it in the Dashboard`);
  if (f.problems.includes('missing_event_types')) {
    lines.push(`  missing ${f.missingEventTypes.length} event type${f.missingEventTypes.length === 1 ? '' : 's'}: ${f.missingEventTypes.join(', ')}`);
  }
  if (f.problems.includes('extra_event_types')) {
    const all = f.extraEventTypes.includes('*') ? ' (* is every event)' : '';
    lines.push(`  extra event types no kind keeps${all}: ${f.extraEventTypes.join(', ')}`);
  }
  if (f.problems.includes('api_version')) {
    const actual = f.apiVersion === null ? "the account's default API version (not pinned)" : `API version ${f.apiVersion}`;
    lines.push(
      `  ${actual}, not ${r.expected.apiVersion}, the version this processor reads best; an endpoint's version is fixed: ` +
        'delete it and run billing endpoint create again, then billing backfill --since <when it was deleted>',
    );
  }
  return lines;
}

export function checkText(r: CheckReport): string {
  const scope = `tagged metadata.${MANAGED_BY_KEY}=${MANAGED_BY}${r.url === null ? '' : ` or at ${r.url}`}`;
  const lines = [
    `${r.listed} webhook endpoint${r.listed === 1 ? '' : 's'} in the account (${mode(r.livemode)}), ${r.endpoints.length} checked (${scope})`,
    `expected: the registry's ${r.expected.eventTypes.length} event types, API version ${r.expected.apiVersion}`,
  ];
  for (const f of r.endpoints) {
    lines.push('', `${f.id}  ${f.url}  (${kindText(f.connect)}${f.managed ? '' : ', not tagged as ours'})`);
    if (f.ok) lines.push(`  ok: enabled, ${f.eventTypes} event types, API version ${f.apiVersion}`);
    else lines.push(...problemLines(f, r));
  }
  lines.push('');
  if (r.notFound === 'no_endpoint_at_url') lines.push(`no webhook endpoint posts to ${r.url}; create one: billing endpoint create --url ${r.url}`);
  if (r.notFound === 'no_managed_endpoint') lines.push('no webhook endpoint is ours; create one: billing endpoint create --url https://…/webhooks/stripe');
  const wrong = r.endpoints.filter((f) => !f.ok).length;
  if (wrong > 0) lines.push(`${wrong} of ${r.endpoints.length} endpoint${r.endpoints.length === 1 ? '' : 's'} need${wrong === 1 ? 's' : ''} attention`);
  if (r.ok) lines.push('all good');
  return lines.join('\n');
}
