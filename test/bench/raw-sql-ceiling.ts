// The drain's baseline: the database doing the writes each event needs, with nothing else in the way.
import type { Client } from 'pg';
import { mergeInvoice } from '../../src/billing/merge';
import { snapshotFromEvent } from '../../src/billing/snapshot';
import { connect } from './bench-database';
import { centralRate } from './sqs-admin';

const COLUMNS = [
  'stripe_invoice_id', 'stripe_customer_id', 'customer_email', 'customer_name', 'number', 'status', 'overdue',
  'amount_cents', 'amount_paid_cents', 'amount_remaining_cents', 'total_cents', 'currency', 'due_date',
  'collection_method', 'billing_reason', 'hosted_invoice_url', 'invoice_pdf_url', 'livemode', 'metadata',
  'attempt_count', 'stripe_created_at', 'finalized_at', 'paid_at', 'voided_at', 'marked_uncollectible_at',
  'deleted_at', 'last_event_id', 'last_event_created_at',
] as const;
const SECONDS = new Set(['due_date', 'stripe_created_at', 'finalized_at', 'paid_at', 'voided_at', 'marked_uncollectible_at', 'deleted_at', 'last_event_created_at']);
const ph = (c: string, i: number) => (SECONDS.has(c) ? `to_timestamp($${i + 1})` : c === 'metadata' ? `$${i + 1}::jsonb` : `$${i + 1}`);

const INSERT_EVENT = {
  name: 'ceiling_event',
  text: `INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, api_version, payload)
         VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7::jsonb) ON CONFLICT (id) DO NOTHING`,
};
const UPSERT_INVOICE = {
  name: 'ceiling_invoice',
  text: `INSERT INTO invoices (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(ph).join(', ')})
         ON CONFLICT (stripe_invoice_id) DO UPDATE SET ${COLUMNS.slice(1).map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, updated_at = now()`,
};
const MARK = {
  name: 'ceiling_mark',
  text: `UPDATE stripe_events SET processed_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`,
};

interface Prepared {
  event: unknown[];
  invoice: unknown[];
  id: string;
}

const camel = (c: string) => c.replace(/_([a-z])/g, (_, l: string) => l.toUpperCase());

/** Everything but the SQL is done before the clock starts: the ceiling measures the database. */
function prepare(body: string, now: number): Prepared {
  const snap = snapshotFromEvent(JSON.parse(body));
  const state = mergeInvoice(null, snap, now) as unknown as Record<string, unknown>;
  const invoice = COLUMNS.map((c) => {
    const v = state[camel(c)];
    return c === 'metadata' ? JSON.stringify(v) : v;
  });
  return { id: snap.eventId, event: [snap.eventId, snap.eventType, snap.stripeInvoiceId, snap.eventCreated, snap.livemode, snap.apiVersion, body], invoice };
}

async function one(c: Client, p: Prepared): Promise<void> {
  await c.query('BEGIN');
  await c.query({ ...INSERT_EVENT, values: p.event });
  await c.query({ ...UPSERT_INVOICE, values: p.invoice });
  await c.query({ ...MARK, values: [p.id] });
  await c.query('COMMIT');
}

/**
 * Events per second for one transaction per event (event row, invoice upsert, processed mark) as
 * prepared statements over `connections` connections: what the consumer would reach if parsing,
 * merging, the outbox and the queue cost nothing.
 */
export async function rawSqlCeiling(url: string, bodies: string[], connections: number): Promise<number> {
  return (await rawSqlRun(url, bodies, connections)).rate;
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The ceiling, with the CPU this process (the client: pg's driver) spent on the statements alone. */
export async function rawSqlRun(url: string, bodies: string[], connections: number): Promise<{ rate: number; clientCpuSeconds: number }> {
  const now = Math.floor(Date.now() / 1000);
  const work = bodies.map((b) => prepare(b, now));
  const clients = await Promise.all(Array.from({ length: connections }, () => connect(url)));
  const doneAt: number[] = [];
  let next = 0;
  const cpu0 = cpuSeconds();
  try {
    await Promise.all(
      clients.map(async (c) => {
        while (next < work.length) await one(c, work[next++]!).then(() => doneAt.push(performance.now()));
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  return { rate: centralRate(doneAt), clientCpuSeconds: cpuSeconds() - cpu0 };
}
