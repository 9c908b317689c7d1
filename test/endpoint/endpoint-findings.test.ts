/** What `billing endpoint` decides about endpoints and arguments, without Stripe: pure functions. */
import Stripe from 'stripe';
import { checkEndpoints, conflictingEndpoint, inspectEndpoint, sameWebhookUrl, type EndpointSnapshot } from '../../src/commands/endpoint-findings';
import { apiVersionOption, descriptionOption, endpointUrlFilter, webhookUrlOption } from '../../src/commands/endpoint-options';
import { UsageError } from '../../src/commands/usage';
import { SNAPSHOT_EVENT_TYPES } from '../../src/stripe-objects/registry';
import { webhookCatalog } from '../support/stripe-api/sdk-catalog';

const VERSION = '2026-10-28.endive';
const EXPECTED = { eventTypes: ['invoice.paid', 'invoice.voided', 'charge.refunded'], apiVersion: VERSION };
const URL_ = 'https://billing.example.com/webhooks/stripe';

function endpoint(o: Partial<EndpointSnapshot> = {}): EndpointSnapshot {
  return { id: 'we_1', url: URL_, status: 'enabled', enabled_events: [...EXPECTED.eventTypes], api_version: VERSION, metadata: { managed_by: 'stripe-billing', connect: 'false' }, ...o };
}

describe('the event types an endpoint is created with', () => {
  it('are each a type Stripe accepts for a webhook endpoint (the SDK’s own list), with no duplicates', () => {
    const { eventTypes } = webhookCatalog();
    expect(SNAPSHOT_EVENT_TYPES.filter((t) => !eventTypes.has(t))).toEqual([]);
    expect(new Set(SNAPSHOT_EVENT_TYPES).size).toBe(SNAPSHOT_EVENT_TYPES.length);
  });

  it('are pinned by default to a version Stripe knows: the SDK’s', () => {
    expect(webhookCatalog().apiVersions.has(Stripe.API_VERSION)).toBe(true);
  });
});

describe('inspectEndpoint', () => {
  it('finds nothing wrong with an enabled endpoint of exactly the expected types and version, in any order', () => {
    expect(inspectEndpoint(endpoint({ enabled_events: [...EXPECTED.eventTypes].reverse() }), EXPECTED)).toMatchObject({ ok: true, problems: [], missingEventTypes: [], extraEventTypes: [], managed: true, connect: false });
  });

  it('names each problem: disabled, missing types, extra types, another version', () => {
    const f = inspectEndpoint(endpoint({ status: 'disabled', enabled_events: ['invoice.paid', 'invoice.upcoming'], api_version: '2024-06-20' }), EXPECTED);
    expect(f).toMatchObject({
      ok: false,
      problems: ['disabled', 'missing_event_types', 'extra_event_types', 'api_version'],
      missingEventTypes: ['invoice.voided', 'charge.refunded'],
      extraEventTypes: ['invoice.upcoming'],
      apiVersion: '2024-06-20',
    });
  });

  it('counts * as every type: nothing missing, * itself extra', () => {
    expect(inspectEndpoint(endpoint({ enabled_events: ['*'] }), EXPECTED)).toMatchObject({ problems: ['extra_event_types'], missingEventTypes: [], extraEventTypes: ['*'] });
  });

  it("reports an endpoint on the account's default version (null) as another version", () => {
    expect(inspectEndpoint(endpoint({ api_version: null }), EXPECTED).problems).toEqual(['api_version']);
  });

  it('reads the kind from our metadata only', () => {
    expect(inspectEndpoint(endpoint({ metadata: { managed_by: 'stripe-billing', connect: 'true' } }), EXPECTED).connect).toBe(true);
    expect(inspectEndpoint(endpoint({ metadata: { connect: 'true' } }), EXPECTED)).toMatchObject({ managed: false, connect: null });
    expect(inspectEndpoint(endpoint({ metadata: null }), EXPECTED)).toMatchObject({ managed: false, connect: null });
  });
});

describe('checkEndpoints', () => {
  const foreign = endpoint({ id: 'we_foreign', url: 'https://other.example.com/hook', metadata: {} });

  it('checks ours and those at --url, ignores the rest, and is ok when each is', () => {
    const r = checkEndpoints([foreign, endpoint()], EXPECTED, { livemode: false });
    expect(r).toMatchObject({ ok: true, listed: 2, notFound: null, url: null, livemode: false });
    expect(r.endpoints.map((e) => e.id)).toEqual(['we_1']);
    const withUrl = checkEndpoints([foreign, endpoint()], EXPECTED, { url: 'https://other.example.com/hook', livemode: true });
    expect(withUrl.endpoints.map((e) => e.id)).toEqual(['we_foreign', 'we_1']);
  });

  it('is not ok when none is ours, or none is at --url', () => {
    expect(checkEndpoints([foreign], EXPECTED, { livemode: false })).toMatchObject({ ok: false, notFound: 'no_managed_endpoint', endpoints: [] });
    expect(checkEndpoints([], EXPECTED, { livemode: false })).toMatchObject({ ok: false, notFound: 'no_managed_endpoint', listed: 0 });
    expect(checkEndpoints([endpoint()], EXPECTED, { url: 'https://elsewhere.example.com/webhooks/stripe', livemode: false })).toMatchObject({
      ok: false,
      notFound: 'no_endpoint_at_url',
      endpoints: [expect.objectContaining({ id: 'we_1', ok: true })],
    });
  });

  it('is not ok when one endpoint of several has a problem', () => {
    expect(checkEndpoints([endpoint(), endpoint({ id: 'we_2', status: 'disabled' })], EXPECTED, { livemode: false }).ok).toBe(false);
  });
});

describe('sameWebhookUrl and conflictingEndpoint', () => {
  it.each([
    [URL_, 'https://BILLING.example.com/webhooks/stripe', true],
    [URL_, 'https://billing.example.com:443/webhooks/stripe/', true],
    [URL_, 'https://billing.example.com/webhooks/stripe?x=1', false],
    [URL_, 'http://billing.example.com/webhooks/stripe', false],
    [URL_, 'https://billing.example.com/webhooks/stripe-test', false],
  ])('%s and %s: %s', (a, b, same) => {
    expect(sameWebhookUrl(a, b)).toBe(same);
  });

  it('an account endpoint and a Connect endpoint of ours may share a URL; two of a kind may not', () => {
    const account = endpoint({ id: 'we_account' });
    const connect = endpoint({ id: 'we_connect', metadata: { managed_by: 'stripe-billing', connect: 'true' } });
    expect(conflictingEndpoint([account], URL_, true)).toBeUndefined();
    expect(conflictingEndpoint([account], `${URL_}/`, false)?.id).toBe('we_account');
    expect(conflictingEndpoint([connect], URL_, false)).toBeUndefined();
    expect(conflictingEndpoint([account, connect], URL_, true)?.id).toBe('we_connect');
    expect(conflictingEndpoint([account], 'https://billing.example.com/other', false)).toBeUndefined();
  });

  it('an endpoint made elsewhere at the URL always conflicts: its kind is unknown', () => {
    const foreign = endpoint({ id: 'we_dashboard', metadata: {} });
    expect(conflictingEndpoint([foreign], URL_, false)?.id).toBe('we_dashboard');
    expect(conflictingEndpoint([foreign], URL_, true)?.id).toBe('we_dashboard');
  });
});

describe('arguments', () => {
  const refused = (fn: () => unknown, message: RegExp) => {
    expect(fn).toThrow(UsageError);
    expect(fn).toThrow(message);
  };

  it('--url: an https URL Stripe can reach, normalised', () => {
    expect(webhookUrlOption(' https://Billing.Example.com/webhooks/stripe ')).toBe('https://billing.example.com/webhooks/stripe');
    expect(webhookUrlOption('https://203.0.113.9:8443/webhooks/stripe')).toBe('https://203.0.113.9:8443/webhooks/stripe');
  });

  it.each([
    [undefined, /--url is required/],
    ['', /--url is required/],
    ['billing.example.com/webhooks/stripe', /not an absolute URL/],
    ['http://billing.example.com/webhooks/stripe', /must start with https:\/\//],
    ['https://user:pass@billing.example.com/webhooks/stripe', /leave credentials out/],
    ['https://billing.example.com/webhooks/stripe#x', /#fragment/],
    ['https://localhost:4242/webhooks/stripe', /cannot be reached from Stripe.*stripe listen/],
    ['https://127.0.0.1/webhooks/stripe', /cannot be reached from Stripe/],
    ['https://[::1]/webhooks/stripe', /cannot be reached from Stripe/],
    ['https://10.0.0.5/webhooks/stripe', /cannot be reached from Stripe/],
    ['https://172.20.1.1/webhooks/stripe', /cannot be reached from Stripe/],
    ['https://192.168.1.10/webhooks/stripe', /cannot be reached from Stripe/],
    ['https://billing.local/webhooks/stripe', /cannot be reached from Stripe/],
  ])('--url %j is refused', (raw, message) => refused(() => webhookUrlOption(raw), message));

  it('check --url takes any absolute http(s) URL', () => {
    expect(endpointUrlFilter(undefined)).toBeUndefined();
    expect(endpointUrlFilter('http://localhost:4242/webhooks/stripe')).toBe('http://localhost:4242/webhooks/stripe');
    refused(() => endpointUrlFilter('webhooks/stripe'), /not an absolute http\(s\) URL/);
    refused(() => endpointUrlFilter('ftp://example.com/x'), /not an absolute http\(s\) URL/);
  });

  it('--api-version: a real date, with or without its release name', () => {
    expect(apiVersionOption(undefined, VERSION)).toBeUndefined();
    expect(apiVersionOption('2026-10-28.endive', VERSION)).toBe('2026-10-28.endive');
    expect(apiVersionOption('2024-06-20', VERSION)).toBe('2024-06-20');
    for (const bad of ['latest', '2026-02-30', '2026-10-28.', '2026-10-28.Endive', '26-10-28', '2026-10-28 endive']) {
      refused(() => apiVersionOption(bad, VERSION), /--api-version: not a Stripe API version.*2026-10-28\.endive/);
    }
  });

  it('--description: 1 to 5000 characters', () => {
    expect(descriptionOption(' billing ')).toBe('billing');
    refused(() => descriptionOption('  '), /--description/);
    refused(() => descriptionOption('x'.repeat(5001)), /--description/);
  });
});
