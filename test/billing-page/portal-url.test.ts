import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { localPortalSecret } from '../../src/embedded/webhook-secret';
import { verifyPortalToken } from '../../src/billing-page/token';
import { redactionOptions } from '../../src/log-redaction';
import { billing } from '../support/cli';

let dataDir: string;
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-portal-url-'));
});
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const tokenOf = (url: string) => url.trim().split('/billing/')[1]!;

describe('billing portal-url (the built CLI)', () => {
  it('prints a link signed with the secret generated once under DATA_DIR', async () => {
    const r = billing(['portal-url', 'cus_Q1w2E3r4'], { DATA_DIR: dataDir });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^http:\/\/127\.0\.0\.1:4242\/billing\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}\n$/);
    const secret = fs.readFileSync(path.join(dataDir, 'portal-signing-secret'), 'utf8').trim();
    expect(fs.statSync(path.join(dataDir, 'portal-signing-secret')).mode & 0o777).toBe(0o600);
    expect(r.out + r.err).not.toContain(secret);
    const claims = verifyPortalToken(tokenOf(r.out), [secret], Math.floor(Date.now() / 1000));
    expect(claims).toMatchObject({ customerId: 'cus_Q1w2E3r4', accountId: null, role: 'admin' });
    // 12 hours by default.
    expect(claims!.expiresAt - Date.now() / 1000).toBeGreaterThan(12 * 3600 - 60);
    expect(claims!.expiresAt - Date.now() / 1000).toBeLessThanOrEqual(12 * 3600);
    // The same secret next time.
    expect(await localPortalSecret(dataDir)).toBe(secret);
  });

  it('takes the account, role, lifetime and base URL, and signs with the first configured secret', () => {
    const first = 'first-secret-0123456789abcdefghijklmnop';
    const r = billing(
      ['portal-url', 'cus_Q1w2E3r4', '--account', 'acct_1PgcA2B7', '--role', 'member', '--ttl', '30m', '--base-url', 'https://billing.example.com/', '--json'],
      { DATA_DIR: dataDir, PORTAL_SIGNING_SECRET: `${first},second-secret-0123456789abcdefghijklmno` },
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out).toMatchObject({ customer: 'cus_Q1w2E3r4', account: 'acct_1PgcA2B7', role: 'member' });
    expect(out.url).toMatch(/^https:\/\/billing\.example\.com\/billing\//);
    expect(out.json_url).toBe(`${out.url}.json`);
    const claims = verifyPortalToken(tokenOf(out.url), [first], Math.floor(Date.now() / 1000));
    expect(claims).toMatchObject({ accountId: 'acct_1PgcA2B7', role: 'member' });
    expect(Date.parse(out.expires_at) / 1000 - Date.now() / 1000).toBeLessThanOrEqual(1800);
    expect(fs.existsSync(path.join(dataDir, 'portal-signing-secret'))).toBe(false);
  });

  it.each([
    [['portal-url', 'in_123'], 'customer'],
    [['portal-url', 'cus_1', '--role', 'owner'], '--role'],
    [['portal-url', 'cus_1', '--ttl', '90d'], '--ttl'],
    [['portal-url', 'cus_1', '--account', 'platform'], '--account'],
    [['portal-url', 'cus_1', '--base-url', 'not a url'], '--base-url'],
  ])('refuses %p with exit 2', (args, word) => {
    const r = billing(args, { DATA_DIR: dataDir });
    expect(r.code).toBe(2);
    expect(r.err).toContain(word);
  });
});

describe('secrets and tokens in logs', () => {
  it('censors the portal secrets and a token logged by name', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = pino({ ...redactionOptions() }, sink);
    log.info({ signingSecrets: ['s3cr3t-portal'], portal: { signingSecrets: ['s3cr3t-nested'], portalToken: 'tok.en' }, portalToken: 'tok.en2' }, 'x');
    expect(lines.join('')).not.toMatch(/s3cr3t|tok\.en/);
  });
});
