// npm run bench [-- --quick]: ingest against a bare express endpoint, and the consumer draining a
// pre-filled queue into PostgreSQL. Every figure is printed beside the baseline measured in this run.
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { freePort, startEmbeddedPostgres } from '../../src/embedded/embedded-postgres';
import { createSqsClient } from '../../src/queue/sqs-client';
import { event, invoice, paidLifecycle, sign, TEST_SECRET } from '../support/stripe-events';
import { ROOT, startChild, type Child } from './processes';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const INGEST_SECONDS = quick ? 4 : 10;
const DRAIN_EVENTS = quick ? 2_000 : 10_000;
const CONNECTIONS = 32;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row {
  figure: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number | null;
  ratio: number | null;
}

async function load(url: string, seconds: number) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    requests: [
      {
        // A distinct, freshly signed ~4 KB invoice event per request, as Stripe sends them.
        setupRequest: (req) => {
          const id = `in_${randomBytes(8).toString('hex')}`;
          const payload = JSON.stringify(event('invoice.finalized', invoice({ id, status: 'open' })));
          return { ...req, body: payload, headers: { 'content-type': 'application/json', 'stripe-signature': sign(payload, TEST_SECRET) } };
        },
      },
    ],
  });
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

/** What the queue server alone sustains for one SendMessage per webhook at the same concurrency. */
async function sendCeiling(sqs: SQSClient, queueUrl: string, seconds: number): Promise<number> {
  const body = JSON.stringify(event('invoice.finalized', invoice({ status: 'open' })));
  let sent = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() - t0 < seconds * 1000) {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
        sent++;
      }
    }),
  );
  return sent / ((Date.now() - t0) / 1000);
}

async function database(): Promise<{ adminUrl: string; stop: () => Promise<void> }> {
  if (process.env['DATABASE_URL']) return { adminUrl: process.env['DATABASE_URL'], stop: async () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-bench-'));
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

async function main() {
  const started = Date.now();
  const rows: Row[] = [];
  const db = await database();
  const sqsChild = await startChild('tsx', ['test/bench/sqs-server.ts'], {}, /queueUrl/);
  const sqsInfo = JSON.parse(/\{.*queueUrl.*\}/.exec(sqsChild.output())![0]) as { endpoint: string; queueUrl: string; dlqUrl: string };
  const sqs = createSqsClient({ region: 'us-east-1', endpoint: sqsInfo.endpoint });
  const children: Child[] = [sqsChild];
  const clients: Client[] = [];
  const baseEnv = {
    SQS_QUEUE_URL: sqsInfo.queueUrl,
    SQS_DLQ_URL: sqsInfo.dlqUrl,
    AWS_ENDPOINT_URL_SQS: sqsInfo.endpoint,
    STRIPE_WEBHOOK_SECRET: TEST_SECRET,
    LOG_LEVEL: 'warn',
  };
  try {
    // Ingest: bare express vs billing serve, alternating rounds so drift hits both alike.
    const barePort = await freePort();
    const servePort = await freePort();
    const bare = await startChild('tsx', ['test/bench/bare-server.ts'], { PORT: String(barePort) }, /listening/);
    const serve = await startChild('node', ['dist/src/cli.js', 'serve'], { ...baseEnv, PORT: String(servePort) }, /webhook URL/);
    children.push(bare, serve);
    const bareRuns = [];
    const serveRuns = [];
    await load(`http://127.0.0.1:${servePort}/webhooks/stripe`, 2); // warm-up
    await load(`http://127.0.0.1:${barePort}/webhooks/stripe`, 2);
    for (let r = 0; r < ROUNDS; r++) {
      bareRuns.push(await load(`http://127.0.0.1:${barePort}/webhooks/stripe`, INGEST_SECONDS));
      serveRuns.push(await load(`http://127.0.0.1:${servePort}/webhooks/stripe`, INGEST_SECONDS));
    }
    const failures = serveRuns.reduce((n, r) => n + r.non2xx + r.errors, 0);
    if (failures > 0) throw new Error(`billing serve answered ${failures} requests with an error; the figure would be meaningless`);
    const bareRps = median(bareRuns.map((r) => r.rps));
    const serveRps = median(serveRuns.map((r) => r.rps));
    rows.push({ figure: 'ingest throughput (billing serve)', value: serveRps, unit: 'req/s', baseline: 'bare express 200', baselineValue: bareRps, ratio: serveRps / bareRps });
    const bareP99 = median(bareRuns.map((r) => r.p99));
    const serveP99 = median(serveRuns.map((r) => r.p99));
    rows.push({ figure: `ingest p99 at ${CONNECTIONS} connections`, value: serveP99, unit: 'ms', baseline: 'bare express 200', baselineValue: bareP99, ratio: serveP99 / bareP99 });
    const ceiling = await sendCeiling(sqs, sqsInfo.queueUrl, INGEST_SECONDS);
    rows.push({ figure: `SQS server alone: SendMessage at ${CONNECTIONS} concurrent`, value: ceiling, unit: 'msg/s', baseline: 'ingest throughput', baselineValue: serveRps, ratio: serveRps / ceiling });
    await serve.stop();
    await bare.stop();

    // Drain: fill the queue first, then time the worker from its first commit to its last.
    const purge = await fetch(`${sqsInfo.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.PurgeQueue' },
      body: JSON.stringify({ QueueUrl: sqsInfo.queueUrl }),
    });
    if (!purge.ok) throw new Error('could not purge the bench queue');
    const perInvoice = 6;
    const invoices = Math.ceil(DRAIN_EVENTS / perInvoice);
    const start = 1_700_000_000;
    let events = [] as Record<string, unknown>[];
    for (let i = 0; i < invoices; i++) events.push(...paidLifecycle(`in_bench${i.toString().padStart(8, '0')}`, start + i * 10));
    events = events.slice(0, DRAIN_EVENTS).sort(() => Math.random() - 0.5);
    for (let i = 0; i < events.length; i += 10) {
      const chunk = events.slice(i, i + 10);
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: sqsInfo.queueUrl, Entries: chunk.map((e, j) => ({ Id: String(j), MessageBody: JSON.stringify(e) })) }));
    }
    const dbName = `bench_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: db.adminUrl });
    admin.on('error', () => undefined);
    clients.push(admin);
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const u = new URL(db.adminUrl);
    u.pathname = `/${dbName}`;
    const worker = await startChild('node', ['dist/src/cli.js', 'worker'], { ...baseEnv, DATABASE_URL: u.toString(), SQS_WAIT_TIME_SECONDS: '1' }, /stripe-billing worker/);
    children.push(worker);
    const check = new Client({ connectionString: u.toString() });
    check.on('error', () => undefined);
    clients.push(check);
    await check.connect();
    const deadline = Date.now() + 300_000;
    let done = 0;
    while (done < events.length) {
        if (Date.now() > deadline) throw new Error(`drain incomplete: ${done}/${events.length}\n${worker.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
      done = Number((await check.query(`SELECT count(*) AS n FROM stripe_events WHERE processed_at IS NOT NULL`)).rows[0].n);
    }
    const span = (await check.query(`SELECT extract(epoch from max(processed_at) - min(processed_at)) AS s FROM stripe_events`)).rows[0].s as number;
    const eps = events.length / Number(span);
    rows.push({ figure: `drain (billing worker, ${events.length} events)`, value: eps, unit: 'events/s', baseline: '-', baselineValue: null, ratio: null });
    rows.push({ figure: 'worker peak RSS', value: worker.peakRssMiB(), unit: 'MiB', baseline: '-', baselineValue: null, ratio: null });
    await worker.stop();
    await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  } finally {
    for (const c of clients) await c.end().catch(() => undefined);
    for (const c of children.reverse()) await c.stop();
    sqs.destroy();
    await db.stop();
  }

  const fmt = (n: number | null, digits = 1) => (n === null ? '-' : n.toFixed(digits));
  const lines = [
    `| figure | value | baseline | baseline value | ratio |`,
    `|---|---|---|---|---|`,
    ...rows.map((r) => `| ${r.figure} | ${fmt(r.value)} ${r.unit} | ${r.baseline} | ${fmt(r.baselineValue)} | ${fmt(r.ratio, 2)} |`),
  ];
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
  process.stdout.write(`\n${lines.join('\n')}\n\n${machine}; ${quick ? 'quick' : 'full'} run (${ROUNDS} round(s) of ${INGEST_SECONDS} s, medians); ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  fs.mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench-results', 'bench.json'), JSON.stringify({ when: new Date().toISOString(), machine, quick, rows }, null, 2));
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
