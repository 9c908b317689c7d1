import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { CLI } from '../support/cli';
import { event, invoice, sign } from '../support/stripe-events';
import { waitFor } from '../support/wait';

/** `billing dev` (what `npm start` runs) in a child process, read through its banner. */
export interface Dev {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  webhookUrl: string;
  secret: string;
  /** The banner's psql line, for the embedded database. */
  psqlUrl: string;
  /** The banner's `database files` line, when the cluster lives outside DATA_DIR. */
  databaseFiles?: string;
}

export async function startDev(dataDir: string, env: Record<string, string> = {}): Promise<Dev> {
  const child = spawn(process.execPath, [CLI, 'dev'], {
    env: { PATH: process.env['PATH'] ?? '', HOME: os.tmpdir(), DATA_DIR: dataDir, PORT: '0', ...env },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const banner = await Promise.race([
    waitFor('the banner', async () => (/dead letters/.test(out) ? out : undefined), 90_000),
    exited.then(() => {
      throw new Error(`billing dev exited before its banner: ${out}`);
    }),
  ]);
  const pick = (re: RegExp) => re.exec(banner)?.[1];
  return {
    child,
    output: () => out,
    webhookUrl: pick(/webhook URL\s+(\S+)/)!,
    secret: pick(/signing secret\s+(whsec_\S+)/)!,
    psqlUrl: pick(/psql\s+psql '([^']+)'/)!,
    databaseFiles: pick(/database files\s+(\S+)/),
  };
}

export function stopDev(dev: Dev, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  if (dev.child.exitCode !== null || dev.child.signalCode !== null) return Promise.resolve(dev.child.exitCode);
  const exited = new Promise<number | null>((resolve) => dev.child.once('exit', (code) => resolve(code)));
  dev.child.kill(signal);
  return exited;
}

/** Posts a signed invoice.finalized and waits until the worker has merged it. */
export async function sendInvoice(dev: Dev, invoiceId: string): Promise<void> {
  const payload = JSON.stringify(event('invoice.finalized', invoice({ id: invoiceId, status: 'open' })));
  const res = await fetch(dev.webhookUrl, {
    method: 'POST',
    headers: { 'stripe-signature': sign(payload, dev.secret), 'content-type': 'application/json' },
    body: payload,
  });
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  await waitFor('the event to be merged', async () => dev.output().includes(`"invoiceId":"${invoiceId}","outcome":"merged"`), 30_000);
}

export async function invoiceExists(url: string, invoiceId: string): Promise<boolean> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query('SELECT 1 FROM invoices WHERE stripe_invoice_id = $1', [invoiceId])).rowCount === 1;
  } finally {
    await c.end();
  }
}

/**
 * Waits until the server at `url` refuses connections. A server told to shut down as its parent
 * exits may still accept a connection for a moment and then reset it, or answer that it is
 * shutting down; one still answering queries after 5 s was not told, and one not refusing
 * within 30 s is still there.
 */
export async function refusesConnections(url: string): Promise<void> {
  const [answeringMs, withinMs] = [5_000, 30_000];
  const started = Date.now();
  let last = '';
  while (Date.now() - started < withinMs) {
    const c = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    let answered = false;
    try {
      await c.connect();
      await c.query('SELECT 1');
      answered = true;
      last = 'answered a query';
    } catch (err) {
      last = (err as Error).message;
      if (/ECONNREFUSED/.test(last)) return;
    } finally {
      await c.end().catch(() => undefined);
    }
    if (answered && Date.now() - started > answeringMs) throw new Error(`PostgreSQL still answers queries ${Date.now() - started} ms after its parent exited`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`PostgreSQL did not refuse connections within ${withinMs} ms: ${last}`);
}

/** Removes a test's DATA_DIR and, when the cluster was placed outside it, that folder too. */
export function removeDataDir(parent: string, databaseFiles?: string): void {
  fs.rmSync(parent, { recursive: true, force: true });
  if (databaseFiles) fs.rmSync(path.dirname(databaseFiles), { recursive: true, force: true });
}
