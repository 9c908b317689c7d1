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
  /**
   * Removes everything the last round wrote, so each round starts from the preloaded table alone,
   * and ends with a checkpoint, so no round pays for the writes of the one before it.
   */
  reset(): Promise<void>;
  /** Checkpoints the server has started so far (timed and requested), to see whether one fell in a run. */
  checkpoints(): Promise<number>;
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

/**
 * The money of the paid invoices, as an account with that history has it: each paid invoice has its
 * invoice payment and the succeeded charge it linked. The charge's invoice and the payment's
 * charge are all filled in, as they are once both objects have arrived.
 */
const PRELOAD_PAYMENTS = [
  `INSERT INTO invoice_payments (stripe_invoice_payment_id, stripe_invoice_id, stripe_payment_intent_id, stripe_charge_id, status,
     amount_cents, amount_requested_cents, currency, is_default, paid_at, created_at, livemode, last_event_id, last_event_created_at)
   SELECT 'inpay_pre_' || i.id, i.stripe_invoice_id, 'pi_pre_' || i.id, 'ch_pre_' || i.id, 'paid', i.amount_paid_cents, i.amount_paid_cents,
     i.currency, true, i.paid_at, i.paid_at, false, 'evt_pre_inpay_' || i.id, i.paid_at
     FROM invoices i WHERE i.status = 'paid' ORDER BY i.id`,
  `INSERT INTO charges (stripe_charge_id, stripe_payment_intent_id, stripe_invoice_id, stripe_customer_id, status, amount_cents,
     amount_captured_cents, amount_refunded_cents, refunded, currency, receipt_url, payment_method_type, created_at, livemode,
     last_event_id, last_event_created_at)
   SELECT 'ch_pre_' || i.id, 'pi_pre_' || i.id, i.stripe_invoice_id, i.stripe_customer_id, 'succeeded', i.amount_paid_cents,
     i.amount_paid_cents, 0, false, i.currency, 'https://pay.stripe.com/receipts/pre_' || i.id, 'card', i.paid_at, false,
     'evt_pre_ch_' || i.id, i.paid_at
     FROM invoices i WHERE i.status = 'paid' ORDER BY i.id`,
];

/** The tables the preload fills: a round keeps their preloaded rows and removes the rest. */
const PRELOADED = ['invoices', 'invoice_payments', 'charges'];

let checkpointRefused = false;

/**
 * A checkpoint now, so the dirty pages and the WAL of what came before (a preload of a million
 * rows, the last round) are written before the next run rather than during it. Best effort: a
 * DATABASE_URL user without the right is told once, and checkpoints then fall where they fall.
 */
async function checkpoint(c: Client): Promise<void> {
  if (checkpointRefused) return;
  try {
    await c.query('CHECKPOINT');
  } catch (err) {
    checkpointRefused = true;
    process.stderr.write(`CHECKPOINT refused (${(err as Error).message}): a checkpoint may fall inside a measured run\n`);
  }
}

async function checkpointCount(c: Client): Promise<number> {
  // pg_stat_checkpointer since PostgreSQL 17; pg_stat_bgwriter before.
  const since17 = Number((await c.query(`SHOW server_version_num`)).rows[0].server_version_num) >= 170000;
  const sql = since17 ? `SELECT num_timed + num_requested AS n FROM pg_stat_checkpointer` : `SELECT checkpoints_timed + checkpoints_req AS n FROM pg_stat_bgwriter`;
  return Number((await c.query(sql)).rows[0].n);
}

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
  for (const sql of PRELOAD_PAYMENTS) await c.query(sql);
  await c.query(`VACUUM ANALYZE ${PRELOADED.join(', ')}`);
  await checkpoint(c);
  const maxIds = new Map<string, string>();
  for (const t of PRELOADED) maxIds.set(t, (await c.query(`SELECT coalesce(max(id), 0) AS m FROM ${t}`)).rows[0].m as string);
  await c.end();
  return {
    url,
    preloaded: preload,
    reset: async () => {
      const r = await connect(url);
      try {
        // Every table a round can write, read from the schema so a new table is never left behind.
        const written = (
          (await r.query(`SELECT quote_ident(table_name) AS t FROM information_schema.tables
                           WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND NOT (table_name = ANY($1::text[]))`, [[...PRELOADED, 'migrations']])).rows as { t: string }[]
        ).map((x) => x.t);
        // The wallet ledger refuses TRUNCATE by its own trigger, as a product table must; a bench
        // round's entries are not money, so the owner lifts the trigger for this one statement.
        // A worker paused by a round (SIGSTOP) may hold a lock, say in its overdue sweep: fail
        // the round rather than wait for it forever.
        await r.query(`SET lock_timeout = '30s'`);
        await r.query('BEGIN');
        await r.query('ALTER TABLE wallet_ledger DISABLE TRIGGER USER');
        await r.query(`TRUNCATE ${written.join(', ')}`);
        await r.query('ALTER TABLE wallet_ledger ENABLE TRIGGER USER');
        await r.query('COMMIT');
        for (const [t, maxId] of maxIds) await r.query(`DELETE FROM ${t} WHERE id > $1`, [maxId]);
        // Only the tables kept are analysed. A truncated table's statistics say "never analysed", as
        // in a new database, so the planner assumes a small table of unknown size; analysed while
        // empty, they say "no rows", and the plans cached in the first moments of the next run
        // stay shaped for an empty table while it fills.
        await r.query(`VACUUM ANALYZE ${PRELOADED.join(', ')}`);
        await checkpoint(r);
      } finally {
        await r.end();
      }
    },
    checkpoints: async () => {
      const r = await connect(url);
      try {
        return await checkpointCount(r);
      } finally {
        await r.end();
      }
    },
    drop: async () => {
      const a = await connect(adminUrl);
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Events the pipeline has committed as processed. */
export async function processedEvents(db: BenchDatabase): Promise<number> {
  const c = await connect(db.url);
  try {
    return Number((await c.query(`SELECT count(*) AS n FROM stripe_events WHERE processed_at IS NOT NULL`)).rows[0].n);
  } finally {
    await c.end();
  }
}
