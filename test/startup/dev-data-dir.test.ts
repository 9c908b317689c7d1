import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { LOCK_FILE } from '../../src/embedded/data-dir-lock';
import { Closers, openDatabase } from '../../src/run/resources';
import { billingAsync, CLI } from '../support/cli';
import { uid } from '../support/stripe-events';
import { invoiceExists, refusesConnections, removeDataDir, sendInvoice, startDev, stopDev, type Dev } from './dev-process';

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: npm test builds first (npm run build)');
});

const asRoot = process.getuid?.() === 0 ? it : it.skip;
/** A folder only its owner may enter, as `mktemp -d` makes them. */
const privateFolder = () => fs.mkdtempSync(path.join(os.tmpdir(), 'billing-startup-'));

describe('billing dev with DATA_DIR in a folder only root may enter', () => {
  asRoot('starts, answers, stops, and starts again on the same data and port', async () => {
    const parent = privateFolder();
    const dataDir = path.join(parent, 'data');
    let dev: Dev | undefined;
    let files: string | undefined;
    try {
      dev = await startDev(dataDir);
      files = dev.databaseFiles;
      expect(files).toMatch(/^\/var\/lib\/stripe-billing\/data\/[0-9a-f]{16}\/postgres$/);
      expect(dev.output()).toContain(`(the postgres user cannot enter ${dataDir})`);
      expect(dev.psqlUrl).toMatch(/^postgres:\/\/billing:[\w-]+@127\.0\.0\.1:\d+\/billing$/);
      const id = uid('in');
      await sendInvoice(dev, id);
      expect(await invoiceExists(dev.psqlUrl, id)).toBe(true);
      const psqlUrl = dev.psqlUrl;
      expect(await stopDev(dev)).toBe(0);

      dev = await startDev(dataDir);
      expect(dev.databaseFiles).toBe(files);
      // Same password and port: a saved psql or BI connection still works.
      expect(dev.psqlUrl).toBe(psqlUrl);
      expect(await invoiceExists(psqlUrl, id)).toBe(true);
      const second = uid('in');
      await sendInvoice(dev, second);
      expect(await stopDev(dev)).toBe(0);
    } finally {
      if (dev) await stopDev(dev);
      removeDataDir(parent, files);
    }
  }, 240_000);
});

describe('two processes on one DATA_DIR', () => {
  it('refuses a second billing dev at once, and the first keeps working and stays findable', async () => {
    const parent = privateFolder();
    const dataDir = path.join(parent, 'data');
    const first = await startDev(dataDir);
    try {
      const registry = fs.readFileSync(path.join(dataDir, 'embedded-sqs.json'), 'utf8');
      const began = Date.now();
      const second = await billingAsync(['dev'], { DATA_DIR: dataDir, PORT: '0' });
      expect(second.code).toBe(2);
      expect(Date.now() - began).toBeLessThan(20_000);
      expect(second.out).toBe('');
      const lines = second.err.split('\n').filter((l) => l.startsWith('billing:'));
      expect(lines).toEqual([
        expect.stringMatching(new RegExp(`^billing: DATA_DIR ${dataDir} is in use by pid ${first.child.pid} \\(billing dev, running since \\S+\\); stop it first`)),
      ]);

      // Nothing of the first was touched: its queue is still the one other commands find.
      expect(fs.readFileSync(path.join(dataDir, 'embedded-sqs.json'), 'utf8')).toBe(registry);
      await sendInvoice(first, uid('in'));
      const stats = await billingAsync(['stats', '--json'], { DATA_DIR: dataDir });
      expect(stats.err).not.toMatch(/billing:/);
      expect(stats.code).toBe(0);
      expect(JSON.parse(stats.out).queue).not.toBeNull();
      expect(await stopDev(first)).toBe(0);
      expect(fs.existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);
    } finally {
      await stopDev(first);
      removeDataDir(parent, first.databaseFiles);
    }
  }, 240_000);

  it('takes over from a billing dev that was killed, with its server still running', async () => {
    const parent = privateFolder();
    const dataDir = path.join(parent, 'data');
    let dev = await startDev(dataDir);
    const files = dev.databaseFiles;
    try {
      const id = uid('in');
      await sendInvoice(dev, id);
      await stopDev(dev, 'SIGKILL');
      expect(JSON.parse(fs.readFileSync(path.join(dataDir, LOCK_FILE), 'utf8')).pid).toBe(dev.child.pid);

      dev = await startDev(dataDir);
      expect(dev.output()).toMatch(/took over DATA_DIR from a process that is no longer running/);
      expect(dev.output()).toMatch(/stopping the embedded PostgreSQL an earlier process left running/);
      expect(await invoiceExists(dev.psqlUrl, id)).toBe(true);
      await sendInvoice(dev, uid('in'));
      expect(await stopDev(dev)).toBe(0);
    } finally {
      await stopDev(dev);
      removeDataDir(parent, files);
    }
  }, 240_000);

  it('refuses everything else while a one-off command runs its own embedded PostgreSQL', async () => {
    const parent = privateFolder();
    const dataDir = path.join(parent, 'data');
    const closers = new Closers();
    const logger = pino({ level: 'silent' });
    let files: string | undefined;
    try {
      // What `billing invoices` does when no billing dev is running.
      const db = await openDatabase(loadConfig({ DATA_DIR: dataDir }), logger, closers);
      files = db.server?.outsideDataDir ? db.server.clusterDir : undefined;
      const holder = JSON.parse(fs.readFileSync(path.join(dataDir, LOCK_FILE), 'utf8'));
      expect(holder).toMatchObject({ pid: process.pid, shared: false, postgresPort: db.server!.port });

      const oneOff = await billingAsync(['stats', '--json'], { DATA_DIR: dataDir });
      expect(oneOff.code).toBe(2);
      expect(oneOff.err.trim()).toMatch(new RegExp(`^billing: DATA_DIR ${dataDir} is in use by pid ${process.pid} .*its own embedded PostgreSQL until it ends; try again when it has finished`));
      expect(oneOff.err.trim().split('\n')).toHaveLength(1);
      const dev = await billingAsync(['dev'], { DATA_DIR: dataDir, PORT: '0' });
      expect(dev.code).toBe(2);
      expect(dev.err).toMatch(/is in use by pid/);
      // The holder's database was not disturbed.
      expect(await db.ds.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await closers.closeAll(logger);
    }
    // Released: the next command starts its own server again.
    const after = await billingAsync(['stats', '--json'], { DATA_DIR: dataDir });
    expect(after.err).not.toMatch(/billing:/);
    expect(after.code).toBe(0);
    removeDataDir(parent, files);
  }, 240_000);
});

describe('long-running processes on one DATA_DIR', () => {
  it('a standalone billing mailer holds it too: one-off commands use its database, a second mailer is refused', async () => {
    const parent = privateFolder();
    const dataDir = path.join(parent, 'data');
    const mailer = spawn(process.execPath, [CLI, 'mailer'], { env: { PATH: process.env['PATH'] ?? '', HOME: os.tmpdir(), DATA_DIR: dataDir, PORT: '0' } });
    let out = '';
    mailer.stdout.on('data', (d) => (out += d));
    mailer.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => mailer.once('exit', (code) => resolve(code)));
    try {
      await waitForBanner(() => out, /stripe-billing mailer/);
      const stats = await billingAsync(['stats', '--json'], { DATA_DIR: dataDir });
      expect(stats.err).not.toMatch(/billing:/);
      expect(stats.code).toBe(0);
      const second = await billingAsync(['mailer'], { DATA_DIR: dataDir });
      expect(second.code).toBe(2);
      expect(second.err).toMatch(new RegExp(`^billing: DATA_DIR ${dataDir} is in use by pid ${mailer.pid} \\(billing mailer`));
    } finally {
      mailer.kill('SIGTERM');
      expect(await exited).toBe(0);
      removeDataDir(parent, /database files\s+(\S+)/.exec(out)?.[1]);
    }
  }, 240_000);

  it('a second Ctrl-C while stopping exits at once with 130, and leaves no PostgreSQL running', async () => {
    const parent = privateFolder();
    const dataDir = path.join(parent, 'data');
    const dev = await startDev(dataDir);
    try {
      await sendInvoice(dev, uid('in'));
      const exited = new Promise<number | null>((resolve) => dev.child.once('exit', (code) => resolve(code)));
      dev.child.kill('SIGINT');
      // Signals sent together arrive as one: the second Ctrl-C comes once the first is being handled.
      await waitForBanner(dev.output, /"msg":"stopping"/);
      dev.child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(dev.output()).toMatch(/"msg":"stopping at once"/);
      await refusesConnections(dev.psqlUrl);
    } finally {
      await stopDev(dev);
      removeDataDir(parent, dev.databaseFiles);
    }
  }, 240_000);
});

async function waitForBanner(output: () => string, line: RegExp): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!line.test(output())) {
    if (Date.now() > deadline) throw new Error(`no banner: ${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
