// The drain's baseline: the database doing the writes each event needs, with nothing else in the way.
import type { Client } from 'pg';
import { placeholder, type ObjectTable } from '../../src/db/object-table';
import type { AnyObjectKind } from '../../src/stripe-objects/object-kind';
import { kindOfEvent } from '../../src/stripe-objects/registry';
import { connect } from './bench-database';
import { centralRate } from './sqs-admin';

const INSERT_EVENT = {
  name: 'ceiling_event',
  text: `INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, api_version, payload)
         VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7::jsonb) ON CONFLICT (id) DO NOTHING`,
};
const MARK = {
  name: 'ceiling_mark',
  text: `UPDATE stripe_events SET processed_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`,
};

/** One upsert per kind's table, from the same column list its repository writes. */
const upserts = new Map<AnyObjectKind, { statement: { name: string; text: string }; table: ObjectTable<Record<string, unknown>> }>();
function upsertOf(kind: AnyObjectKind) {
  let u = upserts.get(kind);
  if (!u) {
    const table = kind.repository as ObjectTable<Record<string, unknown>>;
    const names = table.columns.map(([, c]) => c);
    u = {
      table,
      statement: {
        name: `ceiling_${table.table}`,
        text: `INSERT INTO ${table.table} (${names.join(', ')}) VALUES (${table.columns.map(([, , k], i) => placeholder(k, i + 1)).join(', ')})
               ON CONFLICT (${names[0]}) DO UPDATE SET ${names.slice(1).map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, updated_at = now()`,
      },
    };
    upserts.set(kind, u);
  }
  return u;
}

interface Prepared {
  event: unknown[];
  upsert: { name: string; text: string };
  row: unknown[];
  id: string;
}

/** Everything but the SQL is done before the clock starts: the ceiling measures the database. */
function prepare(body: string, now: number): Prepared {
  const event = JSON.parse(body) as { type: string };
  const kind = kindOfEvent(event.type);
  if (!kind) throw new Error(`the workload holds an event no kind carries: ${event.type}`);
  const snap = kind.read(event);
  const { table, statement } = upsertOf(kind);
  const state = kind.reduce(null, snap, { now }) as Record<string, unknown>;
  const row = table.columns.map(([field, , k]) => (k === 'json' ? JSON.stringify(state[field]) : state[field]));
  return { id: snap.eventId, event: [snap.eventId, snap.eventType, kind.invoiceOf(snap), snap.eventCreated, snap.livemode, snap.apiVersion, body], upsert: statement, row };
}

async function one(c: Client, p: Prepared): Promise<void> {
  await c.query('BEGIN');
  await c.query({ ...INSERT_EVENT, values: p.event });
  await c.query({ ...p.upsert, values: p.row });
  await c.query({ ...MARK, values: [p.id] });
  await c.query('COMMIT');
}

/**
 * Events per second for one transaction per event (event row, its object's upsert, processed mark) as
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
