import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, ConfigError } from '../../src/config';
import { metricsEndpoint, type MetricsPage } from '../../src/metrics/metrics-endpoint';

const TOKEN = 'Zq3-metrics_token.0123456789~abc';

async function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const page = (text = 'billing_sweep_runs_total 3\n'): MetricsPage => ({ render: async () => text, contentType: 'text/plain; version=0.0.4; charset=utf-8' });

describe('GET /metrics with METRICS_TOKEN', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    server = await serve(metricsEndpoint({ page: page(), token: TOKEN }));
  });
  afterAll(async () => {
    await server?.close();
  });

  const get = (authorization?: string) => fetch(server.url, authorization === undefined ? {} : { headers: { authorization } });

  it('serves the exposition to a scrape with the token', async () => {
    const res = await get(`Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toBe('billing_sweep_runs_total 3\n');
  });

  it('takes the scheme in any case, as HTTP says', async () => {
    expect((await get(`bearer ${TOKEN}`)).status).toBe(200);
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty one', ''],
    ['the scheme alone', 'Bearer'],
    ['a wrong token of the same length', `Bearer ${TOKEN.slice(0, -1)}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, 8)}`],
    ['the token with more after it', `Bearer ${TOKEN}x`],
    ['the token as Basic credentials', `Basic ${Buffer.from(`prometheus:${TOKEN}`).toString('base64')}`],
    ['the token without a scheme', TOKEN],
    ['two tokens', `Bearer ${TOKEN} ${TOKEN}`],
  ])('answers 401 with the Bearer challenge to %s, and shows no metric', async (_what, authorization) => {
    const res = await get(authorization);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    const body = await res.text();
    expect(body).not.toContain('billing_');
    expect(body).not.toContain(TOKEN);
  });

  it('answers 500 without details when the registry cannot render, and says so to the process only', async () => {
    const errors: unknown[] = [];
    const broken = await serve(metricsEndpoint({ page: { render: async () => Promise.reject(new Error('collect failed')), contentType: 'text/plain' }, onError: (e) => errors.push(e) }));
    try {
      const res = await fetch(broken.url);
      expect(res.status).toBe(500);
      expect(await res.text()).not.toContain('collect failed');
      expect(errors).toHaveLength(1);
    } finally {
      await broken.close();
    }
  });

  it('is open when no token is set', async () => {
    const open = await serve(metricsEndpoint({ page: page() }));
    try {
      expect((await fetch(open.url)).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('METRICS_TOKEN in the configuration', () => {
  const configError = (value: string): ConfigError => {
    try {
      loadConfig({ METRICS_TOKEN: value });
    } catch (err) {
      return err as ConfigError;
    }
    throw new Error('accepted');
  };

  it('is optional; empty means unset', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: '  ' }).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: ` ${TOKEN} ` }).metricsToken).toBe(TOKEN);
    expect(loadConfig({ METRICS_TOKEN: 'c2VjcmV0LXRva2VuLWJhc2U2NA==' }).metricsToken).toBe('c2VjcmV0LXRva2VuLWJhc2U2NA==');
  });

  it.each([
    ['too short to be a secret', 'short-token'],
    ['with a space inside', 'abcdefgh ijklmnopqrs'],
    ['with characters a header cannot carry as a bearer token', 'abcdefghijklmnop"q'],
  ])('refuses a token %s, naming the variable but never the value', (_what, value) => {
    const err = configError(value);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/METRICS_TOKEN: must be at least 16 characters/);
    expect(err.message).not.toContain(value);
  });
});
