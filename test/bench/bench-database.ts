// Databases for the drain: migrated, preloaded with invoices, and reset between rounds.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import pino from 'pino';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDataSource, runMigrations } from '../../src/db/data-source';
import { startEmbeddedPostgres } from '../../src/embedded/embedded-postgres';

export interface Server {
  adminUrl: string;
  stop(): Promise<void>;
}

/** DATABASE_URL if set, else an embedded PostgreSQL under the system temp dir. */
export async function startServer(): Promise<Server> {
  if (process.env['DATABASE_URL']) return { adminUrl: process.env['DATABASE_URL'], stop: async () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-bench-'));
  // PostgreSQL runs as `postgres` when we are root and must reach the data dir.
  fs.chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres(dir, pino({ level: 'silent' }));
  return {
    adminUrl: pg.url,
    stop: async () => {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

export interface BenchDatabase {
  url: string;
  preloaded: number;
  /** Removes everything the last round wrote, so each round starts from the preloaded table alone. */
  reset(): Promise<void>;
  drop(): Promise<void>;
}

/**
 * Invoices shaped like a real account's history: nine in ten paid, the rest open and due in a
 * month (so the sweep finds nothing to do), ids as scattered as Stripe's.
 */
const PRELOAD = `
  INSERT INTO invoices (stripe_invoice_id, stripe_customer_id, customer_email, customer_name, number, status,
    amount_cents, amount_paid_cents, amount_remaining_cents, total_cents, currency, due_date, collection_method,
    billing_reason, hosted_invoice_url, invoice_pdf_url, livemode, metadata, attempt_count, stripe_created_at,
    finalized_at, paid_at, last_event_id, last_event_created_at)
  SELECT 'in_' || substr(md5(g::text), 1, 24), 'cus_' || (g % 50000), 'customer' || (g % 50000) || '@example.com',
    'Customer ' || (g % 50000), 'PRE-' || g, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'paid' END,
    1000 + g % 5000, CASE WHEN g % 10 = 0 THEN 0 ELSE 1000 + g % 5000 END, CASE WHEN g % 10 = 0 THEN 1000 + g % 5000 ELSE 0 END,
    1000 + g % 5000, 'usd', CASE WHEN g % 10 = 0 THEN now() + interval '30 days' END, 'charge_automatically',
    'subscription_cycle', 'https://invoice.stripe.com/i/' || g, 'https://pay.stripe.com/invoice/' || g || '/pdf', false,
    '{}'::jsonb, CASE WHEN g % 10 = 0 THEN 0 ELSE 1 END, now() - interval '400 days' + g * interval '1 second',
    now() - interval '400 days' + g * interval '1 second', CASE WHEN g % 10 = 0 THEN NULL ELSE now() - interval '399 days' + g * interval '1 second' END,
    'evt_pre_' || g, now() - interval '399 days' + g * interval '1 second'
  FROM generate_series(1, $1::int) g`;

export async function createBenchDatabase(adminUrl: string, preload: number): Promise<BenchDatabase> {
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const admin = await connect(adminUrl);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  // Two: the migration lock holds one connection while the migrations run on another.
  const ds = createDataSource({ url, poolSize: 2 });
  await ds.initialize();
  await runMigrations(ds);
  await ds.destroy();
  const c = await connect(url);
  await c.query(PRELOAD, [preload]);
  await c.query('VACUUM ANALYZE invoices');
  const maxId = (await c.query(`SELECT coalesce(max(id), 0) AS m FROM invoices`)).rows[0].m as string;
  await c.end();
  return {
    url,
    preloaded: preload,
    reset: async () => {
      const r = await connect(url);
      await r.query('DELETE FROM stripe_events');
      await r.query('DELETE FROM email_notices');
      await r.query('DELETE FROM invoices WHERE id > $1', [maxId]);
      await r.query('VACUUM ANALYZE stripe_events, email_notices, invoices');
      await r.end();
    },
    drop: async () => {
      const a = await connect(adminUrl);
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
