/**
 * `billing endpoint create` and `billing endpoint check`, run from the build as `npx billing`
 * runs them, against the test Stripe API server through the real SDK.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { loadConfig } from '../../src/config';
import { SNAPSHOT_EVENT_TYPES } from '../../src/stripe-objects/registry';
import { billingAsync, CLI, type CliResult } from '../support/cli';
import { webhookEndpointObject } from '../support/stripe-api/objects';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';

const KEY = 'sk_test_endpointCli0123456789abcdef';
const URL_ = 'https://billing.example.com/webhooks/stripe';
const OURS = { managed_by: 'stripe-billing', connect: 'false' };

let api: StripeApi;
let dataDir: string;

beforeAll(async () => {
  if (!fs.existsSync(path.join(path.dirname(CLI), 'commands/endpoint-create.js'))) throw new Error('the build has no endpoint commands: run npm run build first');
  api = await startStripeApi();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-endpoint-'));
});
afterAll(async () => {
  await api.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});
beforeEach(() => api.reset());

function billing(args: string[], env: Record<string, string> = { STRIPE_SECRET_KEY: KEY }): Promise<CliResult> {
  return billingAsync(['endpoint', ...args], { DATA_DIR: dataDir, STRIPE_API_BASE: api.url, ...env });
}

const occurrences = (text: string, part: string) => text.split(part).length - 1;
const posts = () => api.requests.filter((r) => r.method === 'POST');

/** An endpoint exactly as `create` makes it, put straight into the server. */
const good = (o: Record<string, unknown> = {}) =>
  webhookEndpointObject({ url: URL_, enabled_events: [...SNAPSHOT_EVENT_TYPES], api_version: Stripe.API_VERSION, metadata: OURS, ...o });

describe('endpoint create', () => {
  it("creates the endpoint with exactly the registry's event types, the SDK's API version and our tag, and prints the secret once", async () => {
    const r = await billing(['create', '--url', URL_]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);

    expect(api.webhookEndpoints.size).toBe(1);
    const [stored] = api.webhookEndpoints.all();
    const id = stored!['id'] as string;
    expect(stored).toMatchObject({ url: URL_, api_version: Stripe.API_VERSION, status: 'enabled', metadata: { managed_by: 'stripe-billing', connect: 'false' } });
    expect([...(stored!['enabled_events'] as string[])].sort()).toEqual([...SNAPSHOT_EVENT_TYPES].sort());
    expect(stored!['enabled_events']).toHaveLength(SNAPSHOT_EVENT_TYPES.length);
    expect(api.webhookEndpoints.isConnect(id)).toBe(false);

    const secret = api.webhookEndpoints.secretOf(id)!;
    expect(r.out).toContain(id);
    expect(r.out).toMatch(new RegExp(`^STRIPE_WEBHOOK_SECRET=${secret}$`, 'm'));
    expect(occurrences(r.out, secret)).toBe(1);
    expect(r.out).toContain(`${SNAPSHOT_EVENT_TYPES.length} event types`);
    expect(r.out).toContain(`API version ${Stripe.API_VERSION}`);

    // The printed line is one the processor takes, alone or after the secrets already set.
    const line = /^STRIPE_WEBHOOK_SECRET=(.*)$/m.exec(r.out)![1]!;
    expect(loadConfig({ STRIPE_WEBHOOK_SECRET: line }).webhookSecrets).toEqual([secret]);
    expect(loadConfig({ STRIPE_WEBHOOK_SECRET: `whsec_existing123,${line}` }).webhookSecrets).toEqual(['whsec_existing123', secret]);

    // One list (is the URL taken?), then one create, under an idempotency key.
    expect(api.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /v1/webhook_endpoints', 'POST /v1/webhook_endpoints']);
    expect(posts()[0]!.idempotencyKey).toMatch(/\S{16,}/);
  });

  it('--connect creates a Connect endpoint, tagged as one', async () => {
    const r = await billing(['create', '--url', URL_, '--connect', '--description', 'Connect billing']);
    expect(r.code).toBe(0);
    const [stored] = api.webhookEndpoints.all();
    expect(api.webhookEndpoints.isConnect(stored!['id'] as string)).toBe(true);
    expect(stored).toMatchObject({ description: 'Connect billing', metadata: { managed_by: 'stripe-billing', connect: 'true' } });
    expect(posts()[0]!.body).toMatchObject({ connect: 'true' });
    expect(r.out).toMatch(/Connect: events of connected accounts/);
  });

  it('--api-version pins another version, and warns that check will report it', async () => {
    const r = await billing(['create', '--url', URL_, '--api-version', '2024-06-20']);
    expect(r.code).toBe(0);
    expect(api.webhookEndpoints.all()[0]).toMatchObject({ api_version: '2024-06-20' });
    expect(r.err).toMatch(/warning: events will come in API version 2024-06-20; this processor reads .* best/);
  });

  it('--json prints the endpoint with its secret, once', async () => {
    const r = await billing(['create', '--url', URL_, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as Record<string, unknown>;
    const id = api.webhookEndpoints.all()[0]!['id'] as string;
    const secret = api.webhookEndpoints.secretOf(id)!;
    expect(out).toEqual({
      id,
      url: URL_,
      connect: false,
      apiVersion: Stripe.API_VERSION,
      eventTypes: [...SNAPSHOT_EVENT_TYPES],
      description: expect.stringMatching(/stripe-billing/),
      livemode: false,
      metadata: OURS,
      secret,
    });
    expect(occurrences(r.out, secret)).toBe(1);
  });

  it('refuses a second create for the same URL (however it is written), naming the endpoint, and creates nothing', async () => {
    expect((await billing(['create', '--url', URL_])).code).toBe(0);
    const id = api.webhookEndpoints.all()[0]!['id'] as string;
    api.requests.length = 0;
    for (const again of [URL_, 'https://BILLING.example.com/webhooks/stripe/']) {
      const r = await billing(['create', '--url', again]);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toContain(`webhook endpoint ${id} already posts to ${URL_}; nothing was created`);
    }
    expect(api.webhookEndpoints.size).toBe(1);
    expect(posts()).toEqual([]);
  });

  it('takes a Connect endpoint at the URL of our account endpoint, but not a second Connect one', async () => {
    expect((await billing(['create', '--url', URL_])).code).toBe(0);
    expect((await billing(['create', '--url', URL_, '--connect'])).code).toBe(0);
    const again = await billing(['create', '--url', URL_, '--connect']);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already posts to/);
    expect(api.webhookEndpoints.size).toBe(2);
  });

  it('refuses a URL an endpoint made in the Dashboard already takes, of either kind', async () => {
    api.webhookEndpoints.put(webhookEndpointObject({ id: 'we_dashboard', url: URL_, metadata: {} }));
    for (const args of [[], ['--connect']]) {
      const r = await billing(['create', '--url', URL_, ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('we_dashboard');
    }
    expect(api.webhookEndpoints.size).toBe(1);
  });

  it('finds an endpoint taking the URL on a later page of the list', async () => {
    const T0 = 1_700_000_000;
    api.webhookEndpoints.put(webhookEndpointObject({ id: 'we_oldest', url: URL_, metadata: OURS, created: T0 }));
    for (let i = 1; i <= 120; i++) api.webhookEndpoints.put(webhookEndpointObject({ url: `https://other${i}.example.com/hook`, created: T0 + i }));
    const r = await billing(['create', '--url', URL_]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('we_oldest');
    expect(api.requests.filter((q) => q.method === 'GET')).toHaveLength(2);
  });

  it('rides out a 500 on the create with the same idempotency key, and creates one endpoint', async () => {
    api.failNext(500, 1, { path: '/v1/webhook_endpoints', method: 'POST' });
    const r = await billing(['create', '--url', URL_]);
    expect(r.code).toBe(0);
    expect(api.webhookEndpoints.size).toBe(1);
    const [first, second] = posts();
    expect([first!.status, second!.status]).toEqual([500, 200]);
    expect(second!.idempotencyKey).toBe(first!.idempotencyKey);
    expect(r.err).toMatch(/backing off/);
  });

  it.each([
    [['create'], /--url is required/],
    [['create', '--url', 'http://billing.example.com/webhooks/stripe'], /--url: must start with https:\/\//],
    [['create', '--url', 'https://localhost:4242/webhooks/stripe'], /--url: localhost cannot be reached from Stripe.*stripe listen/],
    [['create', '--url', 'https://127.0.0.1/webhooks/stripe'], /cannot be reached from Stripe/],
    [['create', '--url', 'billing.example.com'], /--url: not an absolute URL/],
    [['create', '--url', 'https://user:secret@billing.example.com/webhooks/stripe'], /leave credentials out/],
    [['create', '--url', URL_, '--api-version', 'latest'], /--api-version: not a Stripe API version/],
    [['create', '--url', URL_, '--api-version', '2026-02-30'], /--api-version: not a Stripe API version/],
    [['create', '--url', URL_, '--description', ' '], /--description: 1 to 5000 characters/],
    [['create', '--url', URL_, '--frobnicate'], /unknown option/],
    [['check', '--url', 'nowhere'], /--url: not an absolute http\(s\) URL/],
  ])('billing endpoint %j exits 2, says why, and asks Stripe nothing', async (args, message) => {
    const r = await billing(args);
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
    expect(api.requests).toEqual([]);
  });

  it('passes on what Stripe refuses (a version it does not know), exit 1, creating nothing', async () => {
    const r = await billing(['create', '--url', URL_, '--api-version', '2020-01-01']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/POST \/v1\/webhook_endpoints failed: the Stripe API answered 400: Invalid api_version/);
    expect(api.webhookEndpoints.size).toBe(0);
  });
});

describe('what both commands need', () => {
  it.each([['create', '--url', URL_], ['check']])('endpoint %s without STRIPE_SECRET_KEY exits 2 and names it, asking Stripe nothing', async (...args) => {
    const r = await billing(args, {});
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/needs STRIPE_SECRET_KEY: a secret key \(sk_…\), or a restricted key \(rk_…\) with (read|write) access to Webhook Endpoints/);
    expect(api.requests).toEqual([]);
  });

  it.each([['create', '--url', URL_], ['check']])('endpoint %s with a key Stripe refuses (401) says so without the key, exit 1', async (...args) => {
    api.revokeKey(KEY);
    const r = await billing(args);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Stripe refused STRIPE_SECRET_KEY \(401/);
    expect(r.out + r.err).not.toContain(KEY);
    expect(r.out + r.err).not.toContain(KEY.slice(8, -4));
    expect(api.webhookEndpoints.size).toBe(0);
    expect(api.requests.map((q) => q.status)).toEqual([401]);
  });
});

describe('endpoint check', () => {
  it('all good: exit 0', async () => {
    api.webhookEndpoints.put(good({ id: 'we_good' }), webhookEndpointObject({ id: 'we_unrelated', url: 'https://other.example.com/hook', enabled_events: ['*'] }));
    const r = await billing(['check']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^2 webhook endpoints in the account \(test mode\), 1 checked/);
    expect(r.out).toMatch(/^we_good {2}https:\/\/billing\.example\.com\/webhooks\/stripe/m);
    expect(r.out).toContain(`ok: enabled, ${SNAPSHOT_EVENT_TYPES.length} event types, API version ${Stripe.API_VERSION}`);
    expect(r.out.trimEnd()).toMatch(/\nall good$/);
    expect(r.out).not.toContain('we_unrelated');
  });

  it('accepts what create made', async () => {
    expect((await billing(['create', '--url', URL_])).code).toBe(0);
    expect((await billing(['create', '--url', URL_, '--connect'])).code).toBe(0);
    const r = await billing(['check', '--url', URL_]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/2 checked/);
  });

  it('a disabled endpoint, one missing a type, one with an extra type, one on another API version: exit 1, each named', async () => {
    const T0 = 1_700_000_000;
    api.webhookEndpoints.put(
      good({ id: 'we_disabled', url: 'https://a.example.com/webhooks/stripe', status: 'disabled', created: T0 + 1 }),
      good({ id: 'we_missing', url: 'https://b.example.com/webhooks/stripe', enabled_events: SNAPSHOT_EVENT_TYPES.filter((t) => t !== 'charge.refunded'), created: T0 + 2 }),
      good({ id: 'we_extra', url: 'https://c.example.com/webhooks/stripe', enabled_events: [...SNAPSHOT_EVENT_TYPES, 'invoice.upcoming'], created: T0 + 3 }),
      good({ id: 'we_version', url: 'https://d.example.com/webhooks/stripe', api_version: '2024-06-20', created: T0 + 4 }),
      good({ id: 'we_fine', url: 'https://e.example.com/webhooks/stripe', created: T0 + 5 }),
    );
    const r = await billing(['check']);
    expect(r.code).toBe(1);
    const block = (id: string) => r.out.split('\n\n').find((b) => b.startsWith(id)) ?? '';
    expect(block('we_disabled')).toMatch(/disabled \(status disabled\)/);
    expect(block('we_missing')).toMatch(/missing 1 event type: charge\.refunded$/m);
    expect(block('we_extra')).toMatch(/extra event types no kind keeps: invoice\.upcoming/);
    expect(block('we_version')).toMatch(new RegExp(`API version 2024-06-20, not ${Stripe.API_VERSION.replace('.', '\\.')}`));
    expect(block('we_fine')).toMatch(/ok: enabled/);
    for (const id of ['we_disabled', 'we_missing', 'we_extra', 'we_version']) expect(block(id)).not.toMatch(/ok:/);
    expect(r.out.trimEnd()).toMatch(/\n4 of 5 endpoints need attention$/);
  });

  it('--json: the report, by endpoint, with each problem', async () => {
    api.webhookEndpoints.put(
      good({ id: 'we_star', url: 'https://a.example.com/webhooks/stripe', enabled_events: ['*'], api_version: null, created: 1_700_000_001, metadata: { managed_by: 'stripe-billing', connect: 'true' } }),
      good({ id: 'we_fine', created: 1_700_000_002 }),
    );
    const r = await billing(['check', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({
      ok: false,
      livemode: false,
      url: null,
      expected: { apiVersion: Stripe.API_VERSION, eventTypes: [...SNAPSHOT_EVENT_TYPES] },
      listed: 2,
      notFound: null,
      endpoints: [
        {
          id: 'we_fine',
          url: URL_,
          status: 'enabled',
          managed: true,
          connect: false,
          apiVersion: Stripe.API_VERSION,
          eventTypes: SNAPSHOT_EVENT_TYPES.length,
          missingEventTypes: [],
          extraEventTypes: [],
          problems: [],
          ok: true,
        },
        {
          id: 'we_star',
          url: 'https://a.example.com/webhooks/stripe',
          status: 'enabled',
          managed: true,
          connect: true,
          apiVersion: null,
          eventTypes: 1,
          missingEventTypes: [],
          extraEventTypes: ['*'],
          problems: ['extra_event_types', 'api_version'],
          ok: false,
        },
      ],
    });
  });

  it('no endpoint is ours: says so and how to make one, exit 1', async () => {
    api.webhookEndpoints.put(webhookEndpointObject({ id: 'we_unrelated', url: 'https://other.example.com/hook' }));
    const r = await billing(['check']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/no webhook endpoint is ours; create one: billing endpoint create --url/);
    const json = await billing(['check', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, listed: 1, endpoints: [], notFound: 'no_managed_endpoint' });
  });

  it('--url checks an endpoint made in the Dashboard at that URL, and fails when none posts there', async () => {
    api.webhookEndpoints.put(webhookEndpointObject({ id: 'we_dashboard', url: URL_, enabled_events: ['invoice.paid'], api_version: Stripe.API_VERSION }));
    const r = await billing(['check', '--url', URL_, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { url: string; endpoints: Array<Record<string, unknown>> };
    expect(report.url).toBe(URL_);
    expect(report.endpoints).toEqual([expect.objectContaining({ id: 'we_dashboard', managed: false, connect: null, problems: ['missing_event_types'] })]);

    const elsewhere = await billing(['check', '--url', 'https://elsewhere.example.com/webhooks/stripe']);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.out).toMatch(/no webhook endpoint posts to https:\/\/elsewhere\.example\.com\/webhooks\/stripe/);
  });

  it('reads every page of the list', async () => {
    const T0 = 1_700_000_000;
    api.webhookEndpoints.put(good({ id: 'we_oldest_disabled', status: 'disabled', created: T0 }));
    for (let i = 1; i <= 150; i++) api.webhookEndpoints.put(webhookEndpointObject({ url: `https://other${i}.example.com/hook`, created: T0 + i }));
    api.webhookEndpoints.put(good({ id: 'we_newest', created: T0 + 1000 }));
    const r = await billing(['check', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { listed: number; endpoints: Array<{ id: string; problems: string[] }> };
    expect(report.listed).toBe(152);
    expect(report.endpoints.map((e) => [e.id, e.problems])).toEqual([
      ['we_newest', []],
      ['we_oldest_disabled', ['disabled']],
    ]);
    const gets = api.requests.filter((q) => q.method === 'GET');
    expect(gets.map((q) => [q.query['limit'], q.query['starting_after'] === undefined])).toEqual([
      ['100', true],
      ['100', false],
    ]);
  });

  it('rides out a 429 on the list', async () => {
    api.webhookEndpoints.put(good());
    api.failNext(429, 1, { path: '/v1/webhook_endpoints' });
    const r = await billing(['check']);
    expect(r.code).toBe(0);
    expect(api.requests.map((q) => q.status)).toEqual([429, 200]);
  });

  it('checks the endpoints of the key’s mode, and says which', async () => {
    api.webhookEndpoints.put(good({ id: 'we_live', livemode: true }), good({ id: 'we_test_disabled', status: 'disabled' }));
    const r = await billing(['check'], { STRIPE_SECRET_KEY: 'rk_live_endpointCli0123456789abcdef' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^1 webhook endpoint in the account \(live mode\), 1 checked/);
    expect(r.out).toContain('we_live');
    expect(r.out).not.toContain('we_test_disabled');
  });
});
