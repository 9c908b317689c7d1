import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { billing, CLI } from './support/cli';
import { createTestDatabase, type TestDatabase } from './support/database';
import { event, invoice, sign, uid } from './support/stripe-events';
import { freePort } from '../src/embedded/embedded-postgres';
import { waitFor } from './support/wait';

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: npm test builds first (npm run build)');
});

describe('help and bad arguments', () => {
  it('lists the commands', () => {
    const r = billing(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['dev', 'serve', 'worker', 'migrate']) expect(r.out).toMatch(new RegExp(`\\b${cmd}\\b`));
  });

  it('refuses an unknown command', () => {
    const r = billing(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command/);
  });

  it('names the variable when the configuration is bad, and exits 2', () => {
    const r = billing(['dev'], { STRIPE_WEBHOOK_TOLERANCE_SECONDS: '0' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/STRIPE_WEBHOOK_TOLERANCE_SECONDS/);
  });

  it('never echoes a malformed secret', () => {
    const r = billing(['dev'], { STRIPE_WEBHOOK_SECRET: 'not-a-secret-sk_live_123' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/STRIPE_WEBHOOK_SECRET/);
    expect(r.err + r.out).not.toContain('not-a-secret-sk_live_123');
  });

  it('tells serve and worker that they need an external queue', () => {
    for (const cmd of ['serve', 'worker']) {
      const r = billing([cmd]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/SQS_QUEUE_URL/);
    }
  });
});

describe('migrate', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(2);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('reports an up-to-date database', () => {
    const r = billing(['migrate'], { DATABASE_URL: db.url });
    expect(r.err).toBe('');
    expect(r.out).toMatch(/up to date/);
    expect(r.code).toBe(0);
  });

  it('fails clearly, without the password, when the database is unreachable', async () => {
    const port = await freePort();
    const r = billing(['migrate'], { DATABASE_URL: `postgres://u:hunter2secret@127.0.0.1:${port}/x` });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot connect to the database/);
    expect(r.err).not.toContain('hunter2secret');
  });
});

describe('dev on embedded defaults (what npm start runs)', () => {
  it('starts embedded PostgreSQL and SQS, processes a signed event, and stops cleanly on SIGTERM', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-dev-'));
    fs.chmodSync(parent, 0o755);
    // Not created beforehand: a fresh checkout has no ./.data either.
    const dataDir = path.join(parent, 'data');
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'dev'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: os.tmpdir(), DATA_DIR: dataDir, PORT: String(port) },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const secret = await waitFor('the banner', async () => /signing secret\s+(whsec_\S+)/.exec(out)?.[1], 60000);
      expect(out).toContain(`http://127.0.0.1:${port}/webhooks/stripe`);
      expect(out).toMatch(/database\s+postgres:\/\/billing:\*\*\*@127\.0\.0\.1:\d+\/billing\s+\(embedded\)/);
      expect(out).toContain('stripe listen --forward-to');

      const id = uid('in');
      const payload = JSON.stringify(event('invoice.finalized', invoice({ id, status: 'open' })));
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'stripe-signature': sign(payload, secret), 'content-type': 'application/json' },
        body: payload,
      });
      expect(res.status).toBe(200);
      await waitFor('the event to be merged', async () => out.includes(`"invoiceId":"${id}","outcome":"merged"`), 30000);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      fs.rmSync(parent, { recursive: true, force: true });
    }
    expect(out).toMatch(/"msg":"stopped"/);
  }, 120000);
});
