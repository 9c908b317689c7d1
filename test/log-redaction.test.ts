import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { createLogger } from '../src/log';

/** The paths the logger censored with pino's own redact (wildcards included) before it was made cheaper. */
const PINO_PATHS = [
  'secret', 'secrets', '*.secret', '*.secrets', 'webhookSecrets', '*.webhookSecrets', 'password', '*.password',
  'databaseUrl', '*.databaseUrl', 'smtpUrl', '*.smtpUrl', 'apiKey', 'secretKey', '*.secretKey', '*.apiKey', 'metricsToken', '*.metricsToken',
  'signingSecrets', '*.signingSecrets', 'portalSecret', '*.portalSecret', 'portalToken', '*.portalToken',
  'headers["stripe-signature"]', 'headers.authorization', '*.headers["stripe-signature"]', '*.headers.authorization',
];

function capture(build: (stream: Writable) => Logger): { log: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString());
      done();
    },
  });
  return { log: build(stream), lines: () => out.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const ours = () => capture((s) => createLogger('info', s));
const reference = () =>
  capture((s) => pino({ level: 'info', base: { service: 'stripe-billing' }, redact: { paths: PINO_PATHS, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime }, s));
const withoutTime = (l: Record<string, unknown>) => ({ ...l, time: undefined });

const SECRET = 'whsec_must_never_appear_0123456789';
const samples: Array<[string, Record<string, unknown>]> = [
  ['nothing secret', { eventId: 'evt_1', outcome: 'merged', durationMs: 1.5, nested: { id: 'x', list: [1, 2] } }],
  ['a secret at the top', { secret: SECRET, eventId: 'evt_1' }],
  ['every key at the top', { secrets: [SECRET], webhookSecrets: [SECRET], password: SECRET, databaseUrl: SECRET, smtpUrl: SECRET, apiKey: SECRET, secretKey: SECRET, metricsToken: SECRET, signingSecrets: [SECRET], portalSecret: SECRET, portalToken: SECRET }],
  ['every key one level down', { config: { secret: SECRET, secrets: [SECRET], webhookSecrets: [SECRET], password: SECRET, databaseUrl: SECRET, smtpUrl: SECRET, apiKey: SECRET, secretKey: SECRET, metricsToken: SECRET, signingSecrets: [SECRET], portalSecret: SECRET, portalToken: SECRET, port: 1 } }],
  ['credential headers at the top', { headers: { 'stripe-signature': SECRET, authorization: SECRET, 'content-type': 'application/json' } }],
  ['credential headers one level down', { request: { headers: { 'stripe-signature': SECRET, authorization: SECRET, accept: '*/*' }, path: '/' } }],
  ['several objects, some clean', { a: { password: SECRET }, b: { ok: true }, c: { apiKey: SECRET, keep: 'yes' } }],
  ['two levels down is not a path', { a: { b: { secret: 'not-a-configured-path' } } }],
];

describe('log redaction', () => {
  it.each(samples)('censors as pino’s wildcard paths did: %s', (_name, sample) => {
    const a = ours();
    const b = reference();
    a.log.info(sample, 'line');
    b.log.info(sample, 'line');
    expect(a.lines().map(withoutTime)).toEqual(b.lines().map(withoutTime));
  });

  it('censors child bindings the same way, at both levels and in grandchildren', () => {
    const a = ours();
    const b = reference();
    for (const { log } of [a, b]) log.child({ apiKey: SECRET, ctx: { password: SECRET, id: 1 } }).child({ inner: { secret: SECRET } }).info({ eventId: 'evt' }, 'child');
    expect(a.lines().map(withoutTime)).toEqual(b.lines().map(withoutTime));
    expect(JSON.stringify(a.lines())).not.toContain(SECRET);
  });

  it('censors an Error passed first, and never changes the objects it is given', () => {
    const a = ours();
    const err = Object.assign(new Error('boom'), { password: SECRET });
    const sample = { config: { secret: SECRET } };
    a.log.error(err, 'failed');
    a.log.info(sample, 'line');
    expect(JSON.stringify(a.lines())).not.toContain(SECRET);
    expect(a.lines()[0]).toMatchObject({ msg: 'failed', err: { message: 'boom', password: '[redacted]' } });
    expect(err.password).toBe(SECRET);
    expect(sample.config.secret).toBe(SECRET);
  });
});
