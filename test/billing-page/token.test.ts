import { createHmac } from 'node:crypto';
import { MAX_TOKEN_LENGTH, signPortalToken, tokenTag, verifyPortalToken, type PortalClaims } from '../../src/billing-page/token';

const SECRET = 'portal-secret-0123456789abcdefghijklmnop';
const OLD = 'portal-secret-older-0123456789abcdefghijk';
const NOW = 1_800_000_000;
const claims: PortalClaims = { customerId: 'cus_Q1w2E3r4', accountId: null, role: 'admin', expiresAt: NOW + 3600 };

describe('portal tokens', () => {
  it('round-trips the claims, with and without an account', () => {
    expect(verifyPortalToken(signPortalToken(claims, SECRET), [SECRET], NOW)).toEqual(claims);
    const connected = { ...claims, accountId: 'acct_1PgcA2B7', role: 'member' as const };
    expect(verifyPortalToken(signPortalToken(connected, SECRET), [SECRET], NOW)).toEqual(connected);
  });

  it('is base64url(JSON) "." base64url(HMAC-SHA256 over the first part), as the README documents', () => {
    const token = signPortalToken({ ...claims, accountId: 'acct_1X' }, SECRET);
    const [payload, mac] = token.split('.');
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'))).toEqual({ c: 'cus_Q1w2E3r4', a: 'acct_1X', r: 'admin', e: NOW + 3600 });
    expect(mac).toBe(createHmac('sha256', SECRET).update(payload!).digest('base64url'));
    // Small enough for a URL path: well under 200 characters.
    expect(token.length).toBeLessThan(200);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  it('accepts a token minted by the README example (a platform backend)', () => {
    // The 10-line example of the README, verbatim in spirit: any key order, the account left out.
    const payload = Buffer.from(JSON.stringify({ e: NOW + 60, r: 'member', c: 'cus_Z9' })).toString('base64url');
    const token = `${payload}.${createHmac('sha256', SECRET).update(payload).digest('base64url')}`;
    expect(verifyPortalToken(token, [SECRET], NOW)).toEqual({ customerId: 'cus_Z9', accountId: null, role: 'member', expiresAt: NOW + 60 });
  });

  it('refuses an expired token, from its expiry second on', () => {
    const token = signPortalToken(claims, SECRET);
    expect(verifyPortalToken(token, [SECRET], claims.expiresAt - 1)).not.toBeNull();
    expect(verifyPortalToken(token, [SECRET], claims.expiresAt)).toBeNull();
  });

  it('refuses a token that outlives the longest lifetime a link may have (31 days, and 5 minutes for the minting clock)', () => {
    const at = (e: number) => verifyPortalToken(signPortalToken({ ...claims, expiresAt: e }, SECRET), [SECRET], NOW);
    expect(at(NOW + 31 * 86_400 + 300)).not.toBeNull();
    expect(at(NOW + 31 * 86_400 + 301)).toBeNull();
    expect(at(4_102_444_800)).toBeNull(); // 2100-01-01
  });

  it('verifies with any listed secret while rolling, and with none other', () => {
    const old = signPortalToken(claims, OLD);
    expect(verifyPortalToken(old, [SECRET, OLD], NOW)).toEqual(claims);
    expect(verifyPortalToken(old, [SECRET], NOW)).toBeNull();
    expect(verifyPortalToken(old, [], NOW)).toBeNull();
  });

  it('refuses every tampering: another customer, role or expiry under the old MAC, a changed MAC', () => {
    const token = signPortalToken(claims, SECRET);
    const [, mac] = token.split('.');
    const forge = (o: object) => `${Buffer.from(JSON.stringify(o)).toString('base64url')}.${mac}`;
    expect(verifyPortalToken(forge({ c: 'cus_Other', r: 'admin', e: claims.expiresAt }), [SECRET], NOW)).toBeNull();
    expect(verifyPortalToken(forge({ c: claims.customerId, r: 'admin', e: claims.expiresAt + 10 }), [SECRET], NOW)).toBeNull();
    const flipped = token.slice(0, -2) + (token.endsWith('AA') ? 'AB' : 'AA');
    expect(verifyPortalToken(flipped, [SECRET], NOW)).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['no dot', 'abc'],
    ['two dots', 'a.b.c'],
    ['not base64url', 'a+b.c/d'],
    ['short MAC', 'eyJ9.AAAA'],
    ['too long', 'a'.repeat(MAX_TOKEN_LENGTH + 1)],
  ])('refuses a malformed token (%s)', (_name, token) => {
    expect(verifyPortalToken(token, [SECRET], NOW)).toBeNull();
  });

  it.each([
    ['a non-customer id', { c: 'in_123', r: 'admin', e: NOW + 60 }],
    ['an unknown role', { c: 'cus_1', r: 'owner', e: NOW + 60 }],
    ['a bad account', { c: 'cus_1', a: 'acct_1;drop', r: 'admin', e: NOW + 60 }],
    ['a fractional expiry', { c: 'cus_1', r: 'admin', e: NOW + 0.5 }],
    ['an array', [1, 2]],
  ])('refuses a well-signed payload with %s', (_name, body) => {
    const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
    const token = `${payload}.${createHmac('sha256', SECRET).update(payload).digest('base64url')}`;
    expect(verifyPortalToken(token, [SECRET], NOW)).toBeNull();
  });

  it('refuses to sign what it would refuse to verify', () => {
    expect(() => signPortalToken({ ...claims, customerId: 'cus_<x>' }, SECRET)).toThrow(RangeError);
    expect(() => signPortalToken({ ...claims, accountId: 'platform' }, SECRET)).toThrow(RangeError);
  });

  it('tags a token for logs without showing any of it', () => {
    const token = signPortalToken(claims, SECRET);
    const tag = tokenTag(token);
    expect(tag).toMatch(/^[0-9a-f]{12}$/);
    expect(token).not.toContain(tag);
    expect(tokenTag(token)).toBe(tag);
  });
});
