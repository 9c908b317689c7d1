import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { randomInt, randomUUID } from 'node:crypto';
import { billingPageHandler } from '../../src/billing-page/lambda';
import { signPortalToken, type PortalClaims } from '../../src/billing-page/token';
import { LambdaRuntime } from '../../src/lambda/runtime';
import { captureLogs, lambdaContext, noAwsStores } from '../lambda/events';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { uid } from '../support/stripe-events';
import { seedInvoices } from './seed';
import { PORTAL_SECRET } from './server';

/**
 * The billingPage function as API Gateway invokes it (HTTP API, payload 2.0): the express router
 * of `npm start` through serverless-http, its limits counted in the database so that two
 * containers share them.
 */
jest.setTimeout(120_000);

let db: TestDatabase;
const customer = uid('cus');
const runtimes: LambdaRuntime[] = [];
let invoiceNumber: string;

beforeAll(async () => {
  db = await createTestDatabase(2);
  invoiceNumber = `PAGE-${randomInt(1e6)}`;
  await seedInvoices(db.ds, { customer, name: 'Lambda Page Co', email: 'ap@lambda.test' }, [{ kind: 'open', number: invoiceNumber }]);
});
afterAll(async () => {
  for (const rt of runtimes) await rt.close();
  await db?.drop();
});

const token = (c: Partial<PortalClaims> = {}) =>
  signPortalToken({ customerId: customer, accountId: null, role: 'admin', expiresAt: Math.floor(Date.now() / 1000) + 3600, ...c }, PORTAL_SECRET);

/** A container: its own runtime (its own app, pools and limiter instances), over the shared database. */
function container(env: Record<string, string> = {}) {
  const logs = captureLogs();
  const rt = new LambdaRuntime({
    env: { DATABASE_URL: db.url, PORTAL_SIGNING_SECRET: PORTAL_SECRET, LOG_LEVEL: 'info', ...env },
    stores: noAwsStores,
    logDestination: logs.destination,
  });
  runtimes.push(rt);
  const handler = billingPageHandler(rt);
  return { logs, invoke: (event: APIGatewayProxyEventV2) => handler(event, lambdaContext('billingPage')) };
}

/** What API Gateway sends for GET /billing/{token}: the raw path as requested, the parameter decoded. */
function pageEvent(rawSegment: string, o: { sourceIp?: string; query?: string; headers?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const now = new Date();
  const sourceIp = o.sourceIp ?? '203.0.113.7';
  let decoded: string | undefined;
  try {
    decoded = decodeURIComponent(rawSegment);
  } catch {
    decoded = rawSegment;
  }
  return {
    version: '2.0',
    routeKey: 'GET /billing/{token}',
    rawPath: `/billing/${rawSegment}`,
    rawQueryString: o.query ?? '',
    ...(o.query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(o.query)) } : {}),
    headers: {
      accept: 'text/html,application/xhtml+xml',
      'accept-language': 'en-US,en;q=0.9',
      host: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'Mozilla/5.0',
      'x-amzn-trace-id': `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      'x-forwarded-for': sourceIp,
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...o.headers,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      domainName: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'a1b2c3d4e5',
      http: { method: 'GET', path: `/billing/${rawSegment}`, protocol: 'HTTP/1.1', sourceIp, userAgent: 'Mozilla/5.0' },
      requestId: randomUUID(),
      routeKey: 'GET /billing/{token}',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    pathParameters: { token: decoded },
    isBase64Encoded: false,
  };
}

const someIp = () => `198.51.${randomInt(256)}.${randomInt(1, 255)}`;
const headerOf = (r: { headers?: Record<string, unknown> }, name: string) => r.headers?.[name.toLowerCase()] as string | undefined;

describe('the billingPage function', () => {
  it('answers the page as HTML and as JSON, with the page headers', async () => {
    const { invoke } = container();
    const t = token();
    const html = await invoke(pageEvent(t, { sourceIp: someIp() }));
    expect(html.statusCode).toBe(200);
    expect(headerOf(html, 'content-type')).toBe('text/html; charset=utf-8');
    expect(headerOf(html, 'cache-control')).toBe('no-store');
    expect(headerOf(html, 'referrer-policy')).toBe('no-referrer');
    expect(headerOf(html, 'content-security-policy')).toContain("default-src 'none'");
    expect(headerOf(html, 'ratelimit-policy')).toContain('"ip"; q=120; w=60');
    expect(html.isBase64Encoded).toBe(false);
    expect(html.body).toContain(invoiceNumber);
    const json = await invoke(pageEvent(`${t}.json`, { sourceIp: someIp() }));
    expect(json.statusCode).toBe(200);
    expect(headerOf(json, 'content-type')).toBe('application/json; charset=utf-8');
    expect(JSON.parse(json.body!).invoices.map((i: { number: string }) => i.number)).toEqual([invoiceNumber]);
  });

  it('answers every bad link, a path that does not decode among them, with the same 404', async () => {
    const { invoke } = container();
    const ip = someIp();
    const [garbage, expired, malformed] = await Promise.all([
      invoke(pageEvent('not-a-token', { sourceIp: ip })),
      invoke(pageEvent(token({ expiresAt: Math.floor(Date.now() / 1000) - 1 }), { sourceIp: ip })),
      invoke(pageEvent('%E0%A4%A', { sourceIp: ip })),
    ]);
    for (const r of [garbage, expired, malformed]) {
      expect(r.statusCode).toBe(404);
      expect(headerOf(r, 'cache-control')).toBe('no-store');
      expect(headerOf(r, 'content-security-policy')).toBe(headerOf(garbage, 'content-security-policy'));
      expect(r.body).toBe(garbage.body);
    }
    const [json, malformedJson] = await Promise.all([invoke(pageEvent('not-a-token.json', { sourceIp: ip })), invoke(pageEvent('%E0%A4%A.json', { sourceIp: ip }))]);
    expect(json).toMatchObject({ statusCode: 404, body: '{"error":"Not found"}' });
    expect(malformedJson).toMatchObject({ statusCode: 404, body: '{"error":"Not found"}' });
  });

  it('limits per sourceIp across containers, whatever the tokens', async () => {
    const env = { PORTAL_RATE_LIMIT_PER_IP: '2' };
    const [one, two] = [container(env), container(env)];
    const ip = someIp();
    expect((await one.invoke(pageEvent(token(), { sourceIp: ip }))).statusCode).toBe(200);
    expect((await two.invoke(pageEvent('guess-1', { sourceIp: ip }))).statusCode).toBe(404);
    const refused = await one.invoke(pageEvent(token(), { sourceIp: ip }));
    expect(refused.statusCode).toBe(429);
    expect(headerOf(refused, 'cache-control')).toBe('no-store');
    expect(headerOf(refused, 'retry-after')).toMatch(/^\d+$/);
    expect(headerOf(refused, 'ratelimit')).toContain('"ip"; r=0');
    // Another viewer, and the X-Forwarded-For a client can write, change nothing for this address.
    expect((await two.invoke(pageEvent(token(), { sourceIp: someIp() }))).statusCode).toBe(200);
    expect((await two.invoke(pageEvent(token(), { sourceIp: ip, headers: { 'x-forwarded-for': '192.0.2.1' } }))).statusCode).toBe(429);
  });

  it('limits per token across containers, whatever the addresses', async () => {
    const env = { PORTAL_RATE_LIMIT_PER_TOKEN: '1' };
    const [one, two] = [container(env), container(env)];
    const t = token({ role: 'member' });
    expect((await one.invoke(pageEvent(t, { sourceIp: someIp() }))).statusCode).toBe(200);
    const refused = await two.invoke(pageEvent(`${t}.json`, { sourceIp: someIp() }));
    expect(refused.statusCode).toBe(429);
    expect(headerOf(refused, 'content-type')).toBe('application/json; charset=utf-8');
    expect(refused.body).toBe('{"error":"Too many requests"}');
    expect(headerOf(refused, 'ratelimit')).toContain('"token"; r=0');
  });

  describe('answers 503 with the page headers', () => {
    it('without a signing secret', async () => {
      const { invoke, logs } = container({ PORTAL_SIGNING_SECRET: '' });
      const r = await invoke(pageEvent(token(), { sourceIp: someIp() }));
      expect(r.statusCode).toBe(503);
      expect(headerOf(r, 'cache-control')).toBe('no-store');
      expect(headerOf(r, 'content-type')).toBe('text/html; charset=utf-8');
      expect(logs.text()).toContain('PORTAL_SIGNING_SECRET is not set');
    });

    it('without a database', async () => {
      const { invoke, logs } = container({ DATABASE_URL: '' });
      const r = await invoke(pageEvent(`${token()}.json`, { sourceIp: someIp() }));
      expect(r.statusCode).toBe(503);
      expect(headerOf(r, 'cache-control')).toBe('no-store');
      expect(r.body).toBe('{"error":"Unavailable, try again shortly"}');
      expect(logs.text()).toContain('DATABASE_URL is not set');
    });

    it('with a database that cannot be reached', async () => {
      const { invoke } = container({ DATABASE_URL: 'postgres://billing@127.0.0.1:1/unreachable' });
      const r = await invoke(pageEvent(token(), { sourceIp: someIp() }));
      expect(r.statusCode).toBe(503);
      expect(headerOf(r, 'content-security-policy')).toContain("default-src 'none'");
    });

    it('with a configuration that cannot be read', async () => {
      const { invoke } = container({ PORTAL_RATE_LIMIT_PER_IP: 'many' });
      const r = await invoke(pageEvent(`${token()}.json`, { sourceIp: someIp() }));
      expect(r.statusCode).toBe(503);
      expect(headerOf(r, 'cache-control')).toBe('no-store');
      expect(headerOf(r, 'referrer-policy')).toBe('no-referrer');
      expect(r.body).toBe('{"error":"Unavailable, try again shortly"}');
    });
  });
});
