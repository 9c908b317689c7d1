import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';

/** The ConfigError loadConfig throws for `env`; fails the test if it returns or throws anything else. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe('loadConfig defaults', () => {
  it('runs on an empty environment with embedded services and the documented defaults', () => {
    // toMatchObject: other sections (mail, …) are added to Config independently of these.
    expect(loadConfig({})).toMatchObject({
      host: '127.0.0.1',
      port: 4242,
      dataDir: path.resolve('./.data'),
      databaseUrl: undefined,
      databasePoolSize: 10,
      queue: undefined,
      awsRegion: 'us-east-1',
      sqsEndpoint: undefined,
      maxReceiveCount: 5,
      waitTimeSeconds: 20,
      visibilityTimeoutSeconds: 30,
      workerPollers: undefined,
      workerTransactions: 1,
      webhookSecrets: [],
      toleranceSeconds: 300,
      maxBodyBytes: 2 * 1024 * 1024,
      sweepIntervalSeconds: 300,
      logLevel: 'info',
    });
  });

  it('reads the values it is given', () => {
    const c = loadConfig({
      PORT: '8080',
      STRIPE_WEBHOOK_TOLERANCE_SECONDS: '60',
      WEBHOOK_MAX_BODY_BYTES: '4096',
      DATABASE_URL: 'postgresql://u:p@db:5432/billing',
      SQS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/q',
      SQS_DLQ_URL: 'http://127.0.0.1:9324/000000000000/q-dlq',
    });
    expect(c).toMatchObject({
      port: 8080,
      toleranceSeconds: 60,
      maxBodyBytes: 4096,
      databaseUrl: 'postgresql://u:p@db:5432/billing',
      queue: { url: 'http://127.0.0.1:9324/000000000000/q', dlqUrl: 'http://127.0.0.1:9324/000000000000/q-dlq' },
    });
  });
});

describe('STRIPE_WEBHOOK_TOLERANCE_SECONDS', () => {
  // 0 would disable the SDK's age check entirely; a negative or non-numeric value is a typo.
  it.each(['0', '-5', 'abc', '', '1.5'])('refuses %p at start-up, naming the variable', (value) => {
    const err = configError({ STRIPE_WEBHOOK_TOLERANCE_SECONDS: value });
    expect(err.message).toContain('STRIPE_WEBHOOK_TOLERANCE_SECONDS');
  });

  it('accepts 1', () => {
    expect(loadConfig({ STRIPE_WEBHOOK_TOLERANCE_SECONDS: '1' }).toleranceSeconds).toBe(1);
  });
});

describe('WORKER_POLLERS', () => {
  it.each(['0', '65', 'abc', '2.5'])('refuses %p at start-up, naming the variable', (value) => {
    expect(configError({ WORKER_POLLERS: value }).message).toContain('WORKER_POLLERS');
  });

  it('takes a value it is given, whatever the queue', () => {
    expect(loadConfig({ WORKER_POLLERS: '3' }).workerPollers).toBe(3);
  });
});

describe('WORKER_TRANSACTIONS', () => {
  it.each(['0', '65', 'abc', '1.5', '-2'])('refuses %p at start-up, naming the variable', (value) => {
    expect(configError({ WORKER_TRANSACTIONS: value }).message).toContain('WORKER_TRANSACTIONS');
  });

  it.each([
    ['1', 1],
    ['64', 64],
  ])('accepts %p', (value, n) => {
    expect(loadConfig({ WORKER_TRANSACTIONS: value }).workerTransactions).toBe(n);
  });
});

describe('HEAP_GROWTH_PERCENT', () => {
  it.each(['-1', '5', '301', 'abc', '1.5'])('refuses %p at start-up, naming the variable', (value) => {
    expect(configError({ HEAP_GROWTH_PERCENT: value }).message).toContain('HEAP_GROWTH_PERCENT');
  });

  it.each([
    [undefined, 100],
    ['0', 0],
    ['10', 10],
    ['300', 300],
  ])('reads %p as %p', (value, n) => {
    expect(loadConfig(value === undefined ? {} : { HEAP_GROWTH_PERCENT: value }).heapGrowthPercent).toBe(n);
  });
});

describe('other refused values', () => {
  it('refuses PORT 70000', () => {
    expect(configError({ PORT: '70000' }).message).toContain('PORT');
  });

  it('refuses a DATABASE_URL that is not PostgreSQL, without echoing its password', () => {
    const err = configError({ DATABASE_URL: 'mysql://x' });
    expect(err.message).toContain('DATABASE_URL');
    const withPassword = configError({ DATABASE_URL: 'mysql://billing:hunter2-s3cret@db/billing' });
    expect(withPassword.message).toContain('DATABASE_URL');
    expect(withPassword.message).not.toContain('hunter2-s3cret');
  });

  it('refuses SQS_QUEUE_URL without SQS_DLQ_URL', () => {
    const err = configError({ SQS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/q' });
    expect(err.message).toContain('SQS_QUEUE_URL');
    expect(err.message).toContain('SQS_DLQ_URL');
  });

  it('refuses SQS_DLQ_URL without SQS_QUEUE_URL', () => {
    expect(configError({ SQS_DLQ_URL: 'http://127.0.0.1:9324/000000000000/q-dlq' }).message).toContain('SQS_DLQ_URL');
  });

  it('refuses a body limit below 1 KiB', () => {
    expect(configError({ WEBHOOK_MAX_BODY_BYTES: '100' }).message).toContain('WEBHOOK_MAX_BODY_BYTES');
  });
});

describe('STRIPE_WEBHOOK_SECRET', () => {
  it('parses two comma-separated secrets with spaces into two', () => {
    const c = loadConfig({ STRIPE_WEBHOOK_SECRET: ' whsec_oldOLD123 ,  whsec_newNEW456 ' });
    expect(c.webhookSecrets).toEqual(['whsec_oldOLD123', 'whsec_newNEW456']);
  });

  it('ignores empty entries from a trailing comma', () => {
    expect(loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_only1,' }).webhookSecrets).toEqual(['whsec_only1']);
  });

  it.each([
    ['a key that is not a webhook secret', 'sk_live_51Hs3cr3tV4lu3'],
    ['a secret with a space inside', 'whsec_abc def9876'],
  ])('refuses %s and never echoes it', (_name, bad) => {
    const err = configError({ STRIPE_WEBHOOK_SECRET: `whsec_goodGOOD789,${bad}` });
    expect(err.message).toContain('STRIPE_WEBHOOK_SECRET');
    expect(err.message).not.toContain(bad);
    expect(err.message).not.toContain('whsec_goodGOOD789');
    for (const fragment of bad.split(/\s+/).filter((f) => f.length > 6)) expect(err.message).not.toContain(fragment);
  });
});

describe('SQS_RECEIVE_TIMEOUT_SECONDS', () => {
  it('defaults to 30 s, longer than the default 20 s long poll', () => {
    expect(loadConfig({})).toMatchObject({ waitTimeSeconds: 20, receiveTimeoutSeconds: 30 });
  });

  it.each([
    [{ SQS_RECEIVE_TIMEOUT_SECONDS: '20' }],
    [{ SQS_RECEIVE_TIMEOUT_SECONDS: '10' }],
    [{ SQS_RECEIVE_TIMEOUT_SECONDS: '5', SQS_WAIT_TIME_SECONDS: '5' }],
  ])('refuses a receive timeout not longer than the long poll, naming both variables: %j', (env) => {
    const err = configError(env);
    expect(err.message).toContain('SQS_RECEIVE_TIMEOUT_SECONDS');
    expect(err.message).toContain('SQS_WAIT_TIME_SECONDS');
  });

  it('accepts one second more than the long poll', () => {
    expect(loadConfig({ SQS_WAIT_TIME_SECONDS: '10', SQS_RECEIVE_TIMEOUT_SECONDS: '11' }).receiveTimeoutSeconds).toBe(11);
    expect(loadConfig({ SQS_WAIT_TIME_SECONDS: '0', SQS_RECEIVE_TIMEOUT_SECONDS: '1' }).receiveTimeoutSeconds).toBe(1);
  });

  it.each(['0', 'abc', '1.5', '-30'])('refuses %p, naming the variable', (value) => {
    expect(configError({ SQS_RECEIVE_TIMEOUT_SECONDS: value }).message).toContain('SQS_RECEIVE_TIMEOUT_SECONDS');
  });
});

describe('the billing page (PORTAL_*)', () => {
  it('defaults: a generated secret, never framed, documented rate limits', () => {
    expect(loadConfig({}).portal).toEqual({
      signingSecrets: [],
      frameAncestors: ["'none'"],
      baseUrl: undefined,
      rateLimits: { windowSeconds: 60, perIp: 120, perToken: 30 },
      trustProxy: false,
    });
  });

  it.each<[string, number | string[]]>([
    ['1', 1],
    ['10', 10],
    ['loopback, 10.0.0.0/8,uniquelocal', ['loopback', '10.0.0.0/8', 'uniquelocal']],
    ['2001:db8::/32, 203.0.113.7', ['2001:db8::/32', '203.0.113.7']],
  ])('reads TRUST_PROXY=%p as the proxies that may name the client', (raw, want) => {
    expect(loadConfig({ TRUST_PROXY: raw }).portal.trustProxy).toEqual(want);
  });

  it('reads several signing secrets while rolling, and origins allowed to frame the page', () => {
    const a = 'a'.repeat(32);
    const b = 'B-0123456789abcdefghijklmnopqrstuv+/=';
    const c = loadConfig({
      PORTAL_SIGNING_SECRET: ` ${a} , ${b} `,
      PORTAL_FRAME_ANCESTORS: 'https://app.example.com, https://*.example.org:8443 self',
      PORTAL_BASE_URL: 'https://billing.example.com/',
      PORTAL_RATE_LIMIT_PER_TOKEN: '5',
    });
    expect(c.portal.signingSecrets).toEqual([a, b]);
    expect(c.portal.frameAncestors).toEqual(['https://app.example.com', 'https://*.example.org:8443', "'self'"]);
    expect(c.portal.baseUrl).toBe('https://billing.example.com');
    expect(c.portal.rateLimits.perToken).toBe(5);
  });

  it.each([
    ['PORTAL_SIGNING_SECRET', 'short'],
    ['PORTAL_SIGNING_SECRET', `${'a'.repeat(32)},has space ${'b'.repeat(32)}`],
    ['PORTAL_FRAME_ANCESTORS', 'none https://app.example.com'],
    ['PORTAL_FRAME_ANCESTORS', "https://app.example.com/path 'unsafe-inline'"],
    ['PORTAL_FRAME_ANCESTORS', 'javascript:alert(1)'],
    ['PORTAL_BASE_URL', 'ftp://billing.example.com'],
    ['PORTAL_RATE_LIMIT_PER_IP', '0'],
    ['PORTAL_RATE_LIMIT_WINDOW_SECONDS', 'soon'],
    // Trusting anyone would let every client choose the address its rate limit counts.
    ['TRUST_PROXY', 'true'],
    ['TRUST_PROXY', '0'],
    ['TRUST_PROXY', '11'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', 'example.com'],
    ['TRUST_PROXY', '10.0.0.1/8/1'],
  ])('refuses %s=%p, naming the variable and not the value', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.message).toContain(name);
    if (name === 'PORTAL_SIGNING_SECRET') expect(err.message).not.toContain(value);
  });
});
