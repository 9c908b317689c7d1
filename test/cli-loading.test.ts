// What each command loads: a person running `billing --help` or a finance command waits for
// Node and the code that command needs, not for the AWS SDK, the Stripe SDK or the HTTP server,
// and reads no AWS SDK warning about Node versions. Package loads are recorded in the child.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { billingAsync, CLI } from './support/cli';
import { createTestDatabase, type TestDatabase } from './support/database';
import { startTestSqs } from './support/sqs';

/** Preloaded into the CLI's process: writes the npm packages it loaded to a file when it exits. */
const RECORDER = `
const Module = require('module');
const fs = require('fs');
const seen = new Set();
const load = Module._load;
const builtin = Module.isBuiltin;
Module._load = function (request, parent, isMain) {
  const m = load.apply(this, arguments);
  if (!request.startsWith('.') && !request.startsWith('/') && !builtin(request)) {
    seen.add(request.startsWith('@') ? request.split('/').slice(0, 2).join('/') : request.split('/')[0]);
  }
  return m;
};
process.on('exit', () => fs.writeFileSync(process.env.LOADED_FILE, [...seen].sort().join('\\n')));
`;

let dir: string;
let db: TestDatabase;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-loading-'));
  fs.writeFileSync(path.join(dir, 'recorder.js'), RECORDER);
  db = await createTestDatabase(2);
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

function run(args: string[], env: Record<string, string> = {}) {
  const loadedFile = path.join(dir, `loaded-${args.join('-').replace(/[^a-z-]/g, '')}.txt`);
  const r = spawnSync(process.execPath, ['--require', path.join(dir, 'recorder.js'), CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: os.tmpdir(), DATA_DIR: dir, LOADED_FILE: loadedFile, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr, loaded: fs.readFileSync(loadedFile, 'utf8').split('\n').filter(Boolean) };
}

const HEAVY = ['@aws-sdk/client-sqs', 'stripe', 'express', 'typeorm', 'pg', 'local-aws-sqs', 'nodemailer', 'sqs-consumer'];

describe('what each command loads', () => {
  it('--help loads commander and nothing else', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.loaded).toEqual(['commander']);
  });

  it('a command group without its subcommand prints its help and exits 2, like every usage error', () => {
    for (const args of [[], ['replay'], ['notices'], ['contacts'], ['endpoint']]) {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^Usage: billing/);
    }
  });

  it('endpoint create --help loads commander only', () => {
    const r = run(['endpoint', 'create', '--help']);
    expect(r.code).toBe(0);
    expect(r.loaded).toEqual(['commander']);
  });

  it('help asked for exits 0, however it is asked', () => {
    for (const args of [['--help'], ['help'], ['help', 'replay'], ['replay', '--help'], ['replay', 'help', 'dlq'], ['invoices', '--help'], ['endpoint', 'create', '--help'], ['endpoint', 'check', '--help']]) {
      const r = run(args);
      expect({ args, code: r.code }).toEqual({ args, code: 0 });
      expect(r.out).toMatch(/^Usage: billing/);
    }
  });

  it.each([
    ['invoices', ['invoices', '--format', 'json']],
    ['aging', ['aging']],
    ['events', ['events']],
    ['notices list', ['notices', 'list']],
    ['contacts show', ['contacts', 'show', 'cus_Loading']],
  ])('%s needs the database only: no AWS SDK, no Stripe SDK, no warning about Node versions', (_name, args) => {
    const r = run(args, { DATABASE_URL: db.url });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const pkg of ['@aws-sdk/client-sqs', '@aws-sdk/core', 'stripe', 'express', 'local-aws-sqs', 'nodemailer', 'sqs-consumer']) expect(r.loaded).not.toContain(pkg);
  });

  it('stats, which reads the queues, prints its report and no AWS SDK notice about Node versions', async () => {
    const sqs = await startTestSqs();
    try {
      const env = { DATABASE_URL: db.url, SQS_QUEUE_URL: sqs.queueUrl, SQS_DLQ_URL: sqs.dlqUrl, AWS_ENDPOINT_URL_SQS: sqs.endpoint };
      // Asynchronously: the queue server runs in this process.
      const r = await billingAsync(['stats'], { DATA_DIR: dir, ...env });
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^queue\s+0 waiting/m);
      expect(r.err).toBe('');
    } finally {
      await sqs.stop();
    }
  });

  it('a bad argument is refused before anything heavy is loaded', () => {
    const r = run(['invoices', '--format', 'xml'], { DATABASE_URL: db.url });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--format: one of table, csv, json/);
    for (const pkg of HEAVY) expect(r.loaded).not.toContain(pkg);
  });
});
