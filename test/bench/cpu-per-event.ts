// CPU per event: `billing serve`, `billing worker` and the SQS server running together, each
// process's CPU time over the measured window divided by the events it handled, beside a bare
// express endpoint and the raw-SQL writes of the same events; then the same worker on a backlog.
import autocannon from 'autocannon';
import { loadConfig } from '../../src/config';
import { freePort } from '../../src/embedded/embedded-postgres';
import { connect, createBenchDatabase, processedEvents, type BenchDatabase } from './bench-database';
import { postgresPids, startChild, treeCpuSeconds, whilePaused, type Child } from './processes';
import { rawSqlRun } from './raw-sql-ceiling';
import { row, type Row } from './report';
import { dropQueue, freshQueue, type BenchSqs } from './sqs-admin';
import { webhookFactory, type SignedWebhook } from './workload';

export interface CpuSizes {
  /** Distinct ~4 KB invoice.finalized events per measured run. */
  events: number;
  /** Requests in flight (autocannon connections). */
  concurrencies: number[];
  /**
   * Events through the pipeline before the clock starts: sockets, first plans, and V8's compiler.
   * Its helper threads were still compiling the hot code well into a 1,000-event warm-up; after
   * 10,000 the figure no longer falls. The warm-up is timed too and reported beside.
   */
  warmup: number;
}

const QUEUE = 'bench-cpu';
/** The targets, in ms of a process's own CPU per event. */
const SERVE_TARGET_MS = 0.5;
const WORKER_TARGET_MS = 0.4;

const postgresCpu = () => postgresPids().reduce((n, pid) => n + treeCpuSeconds(pid), 0);

/** This process's CPU: the load generator and the raw-SQL client run here. */
function ownCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Exactly `amount` requests over `connections` keep-alive connections, each a fresh event. */
async function post(url: string, connections: number, amount: number, next: () => SignedWebhook): Promise<{ rps: number; p99: number; failures: number }> {
  const t0 = performance.now();
  const result = await autocannon({
    url,
    connections,
    amount,
    method: 'POST',
    requests: [
      {
        setupRequest: (req) => {
          const w = next();
          return { ...req, body: w.body, headers: { 'content-type': 'application/json', 'stripe-signature': w.signature } };
        },
      },
    ],
  });
  // autocannon's own average is per whole second, too coarse for a run of a few seconds.
  const rps = amount / ((performance.now() - t0) / 1000);
  return { rps, p99: result.latency.p99, failures: result.non2xx + result.errors + result.timeouts };
}

/** How many messages each receive and each transaction carried, from the worker's `"batch":n` and `"group":n` on every event line. */
class BatchSizes {
  events = 0;
  receives = 0;
  transactions = 0;
  private partial = '';
  push(s: string): void {
    const lines = (this.partial + s).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      const m = line.includes('"event processed"') ? /"batch":(\d+).*"group":(\d+)/.exec(line) : null;
      if (!m) continue;
      this.events++;
      this.receives += 1 / Number(m[1]);
      this.transactions += 1 / Number(m[2]);
    }
  }
  reset(): void {
    this.events = this.receives = this.transactions = 0;
  }
  mean(): number {
    return this.receives > 0 ? this.events / this.receives : NaN;
  }
  meanTransaction(): number {
    return this.transactions > 0 ? this.events / this.transactions : NaN;
  }
}

/** CPU of each party of a run (seconds so far, or ms per event); workerMain is the worker's main thread alone (the rest: V8's compiler and GC threads). */
interface Cpu {
  serve: number;
  worker: number;
  workerMain: number;
  sqs: number;
  postgres: number;
  load: number;
}

function cpuNow(serve: Child, worker: Child, sqs: BenchSqs): Cpu {
  return { serve: serve.ownCpuSeconds(), worker: worker.ownCpuSeconds(), workerMain: worker.mainThreadCpuSeconds(), sqs: sqs.cpuSeconds(), postgres: postgresCpu(), load: ownCpu() };
}

/** ms of CPU per event between two readings. */
function perEvent(before: Cpu, after: Cpu, events: number): Cpu {
  const ms = (k: keyof Cpu) => ((after[k] - before[k]) * 1000) / events;
  return { serve: ms('serve'), worker: ms('worker'), workerMain: ms('workerMain'), sqs: ms('sqs'), postgres: ms('postgres'), load: ms('load') };
}

interface PipelineRun {
  concurrency: number;
  /** ms of CPU per event over the measured events. */
  cpu: Cpu;
  /** The same, over the warm-up's events: processes whose hot code V8 is still compiling. */
  warmup: Cpu;
  answerRps: number;
  answerP99: number;
  /** Events from the first post to the last row committed, per second. */
  landedPerSecond: number;
  /** Messages per ReceiveMessage the worker got, and per transaction, from its log lines. */
  meanBatch: number;
  meanTransaction: number;
  /** Entries per SendMessageBatch from billing serve, from the SQS server's count of calls. */
  meanSend: number;
  /** The same worker taking as many events again from a backlog: ms of CPU per event, and its rate. */
  backlog: Cpu & { perSecond: number; meanTransaction: number };
}

async function waitForProcessed(db: BenchDatabase, n: number, worker: Child): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const done = await processedEvents(db);
    if (done >= n) return;
    if (worker.proc.exitCode !== null || Date.now() > deadline) throw new Error(`only ${done} of ${n} events processed\n${worker.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The worker of a run on a backlog: paused (SIGSTOP) while serve queues `sizes.events` more, then
 * resumed and timed until they are all processed. Every receive then brings 10 and every
 * transaction as many as the pollers hold: the full batches the worker's target is stated for,
 * in a process that is warm, with serve and the load generator idle. The pause is shorter than
 * the receive timeout (30 s) and the visibility timeout, so nothing is received twice.
 */
async function backlogOnce(
  db: BenchDatabase,
  worker: Child,
  batches: BatchSizes,
  cpu: () => Cpu,
  sizes: CpuSizes,
  queueMore: () => Promise<{ failures: number }>,
): Promise<PipelineRun['backlog']> {
  await whilePaused(worker, async () => {
    const queued = await queueMore();
    if (queued.failures > 0) throw new Error(`billing serve failed ${queued.failures} of ${sizes.events} webhooks`);
  });
  batches.reset();
  const cpu0 = cpu();
  const t0 = performance.now();
  await waitForProcessed(db, sizes.warmup + 2 * sizes.events, worker);
  const seconds = (performance.now() - t0) / 1000;
  return { ...perEvent(cpu0, cpu(), sizes.events), perSecond: sizes.events / seconds, meanTransaction: batches.meanTransaction() };
}

/** One run of serve + worker on a fresh queue and database: warm-up, then the measured events. */
async function pipelineOnce(sqs: BenchSqs, db: BenchDatabase, env: Record<string, string>, sizes: CpuSizes, concurrency: number): Promise<PipelineRun> {
  await db.reset();
  const queueUrl = await freshQueue(sqs, QUEUE);
  const port = await freePort();
  const children: Child[] = [];
  try {
    const serve = await startChild({
      kind: 'node',
      args: ['dist/src/cli.js', 'serve'],
      env: { ...env, SQS_QUEUE_URL: queueUrl, PORT: String(port) },
      ready: /webhook URL/,
      label: `serve-c${concurrency}`,
    });
    children.push(serve);
    const worker = await startChild({
      kind: 'node',
      args: ['dist/src/cli.js', 'worker'],
      env: { ...env, SQS_QUEUE_URL: queueUrl, DATABASE_URL: db.url, SQS_WAIT_TIME_SECONDS: '1', PORT: '0' },
      ready: /stripe-billing worker/,
      label: `worker-c${concurrency}`,
    });
    children.push(worker);
    const batches = new BatchSizes();
    worker.proc.stdout!.on('data', (d: string) => batches.push(d));
    const url = `http://127.0.0.1:${port}/webhooks/stripe`;
    const next = webhookFactory();
    const now = () => cpuNow(serve, worker, sqs);
    const warm0 = now();
    await post(url, concurrency, sizes.warmup, next);
    await waitForProcessed(db, sizes.warmup, worker);
    const warmup = perEvent(warm0, now(), sizes.warmup);
    batches.reset();

    const calls0 = await sqs.calls();
    const cpu0 = now();
    const t0 = Date.now();
    const answered = await post(url, concurrency, sizes.events, next);
    if (answered.failures > 0) throw new Error(`billing serve failed ${answered.failures} of ${sizes.events} webhooks`);
    await waitForProcessed(db, sizes.warmup + sizes.events, worker);
    const cpu = perEvent(cpu0, now(), sizes.events);
    const calls1 = await sqs.calls();
    const sends = (calls1['SendMessageBatch'] ?? 0) - (calls0['SendMessageBatch'] ?? 0);
    const c = await connect(db.url);
    const last = Number((await c.query(`SELECT extract(epoch from max(processed_at)) * 1000 AS t FROM stripe_events`)).rows[0].t);
    await c.end();
    const meanBatch = batches.mean();
    const meanTransaction = batches.meanTransaction();
    return {
      concurrency,
      cpu,
      warmup,
      answerRps: answered.rps,
      answerP99: answered.p99,
      landedPerSecond: sizes.events / ((last - t0) / 1000),
      meanBatch,
      meanTransaction,
      meanSend: sizes.events / sends,
      backlog: await backlogOnce(db, worker, batches, now, sizes, () => post(url, concurrency, sizes.events, next)),
    };
  } finally {
    for (const c of children.reverse()) await c.stop();
    await dropQueue(sqs, queueUrl);
  }
}

/** The bare endpoint's CPU per request for the same requests at the same concurrency. */
async function bareOnce(bare: Child, url: string, sizes: CpuSizes, concurrency: number): Promise<{ ms: number; rps: number }> {
  const next = webhookFactory();
  // Warmed as much as the product's processes, so the ratio compares warm code with warm code.
  await post(url, concurrency, sizes.warmup, next);
  const c0 = bare.cpuSeconds();
  const run = await post(url, concurrency, sizes.events, next);
  return { ms: ((bare.cpuSeconds() - c0) * 1000) / sizes.events, rps: run.rps };
}

export async function cpuSection(sqs: BenchSqs, adminUrl: string, sizes: CpuSizes, env: Record<string, string>): Promise<Row[]> {
  // The raw-SQL baseline gets as many connections as the product's default pool.
  const connections = loadConfig({}).databasePoolSize;
  const db = await createBenchDatabase(adminUrl, 10_000);
  const barePort = await freePort();
  const bare = await startChild({ kind: 'tsx', args: ['test/bench/bare-server.ts'], env: { PORT: String(barePort) }, ready: /listening/ });
  const runs: PipelineRun[] = [];
  const bareRuns: Array<{ ms: number; rps: number }> = [];
  let raw: { rate: number; clientMs: number; postgresMs: number };
  try {
    for (const concurrency of sizes.concurrencies) {
      bareRuns.push(await bareOnce(bare, `http://127.0.0.1:${barePort}/webhooks/stripe`, sizes, concurrency));
      runs.push(await pipelineOnce(sqs, db, env, sizes, concurrency));
    }
    // The same kind of events written by the raw-SQL baseline: a transaction per event, no queue,
    // after as many others to warm its client up.
    const next = webhookFactory();
    await db.reset();
    await rawSqlRun(db.url, Array.from({ length: sizes.warmup }, () => next().body), connections);
    await db.reset();
    const bodies = Array.from({ length: sizes.events }, () => next().body);
    const pg0 = postgresCpu();
    const run = await rawSqlRun(db.url, bodies, connections);
    raw = { rate: run.rate, clientMs: (run.clientCpuSeconds * 1000) / sizes.events, postgresMs: ((postgresCpu() - pg0) * 1000) / sizes.events };
  } finally {
    await bare.stop();
    await db.drop();
  }

  const rows: Row[] = [];
  runs.forEach((r, i) => {
    const b = bareRuns[i]!;
    process.stderr.write(
      `CPU ms per event, concurrency ${r.concurrency}: billing serve ${r.cpu.serve.toFixed(3)} (target ≤ ${SERVE_TARGET_MS}), ` +
        `billing worker ${r.cpu.worker.toFixed(3)} (target ≤ ${WORKER_TARGET_MS}; main thread ${r.cpu.workerMain.toFixed(3)}), SQS server ${r.cpu.sqs.toFixed(3)}, PostgreSQL ${r.cpu.postgres.toFixed(3)}, ` +
        `load generator ${r.cpu.load.toFixed(3)}; bare express ${b.ms.toFixed(3)}; raw SQL client ${raw.clientMs.toFixed(3)} + its PostgreSQL ${raw.postgresMs.toFixed(3)}; ` +
        `answered ${r.answerRps.toFixed(0)} req/s (bare ${b.rps.toFixed(0)}), p99 ${r.answerP99} ms; landed ${r.landedPerSecond.toFixed(0)} rows/s (raw SQL ${raw.rate.toFixed(0)}); ` +
        `${r.meanSend.toFixed(1)} messages per SendMessageBatch, ${r.meanBatch.toFixed(1)} per receive, ${r.meanTransaction.toFixed(1)} per transaction; ` +
        `then on a backlog of as many: billing worker ${r.backlog.worker.toFixed(3)} (main thread ${r.backlog.workerMain.toFixed(3)}), SQS server ${r.backlog.sqs.toFixed(3)}, PostgreSQL ${r.backlog.postgres.toFixed(3)}, ${r.backlog.perSecond.toFixed(0)} events/s, ${r.backlog.meanTransaction.toFixed(1)} per transaction; ` +
        `during the warm-up (its first ${sizes.warmup} events): billing serve ${r.warmup.serve.toFixed(3)}, billing worker ${r.warmup.worker.toFixed(3)} (main thread ${r.warmup.workerMain.toFixed(3)})\n`,
    );
    const runNote = `${sizes.events} distinct ~4 KB invoice.finalized after ${sizes.warmup} of warm-up; serve, worker and the SQS server running together; process CPU (utime + stime from /proc, all threads) over the window ÷ events`;
    const warmupNote = `the first ${sizes.warmup} events of the same processes, posted and processed as the measured ones: V8 is still compiling the hot code on its helper threads (the measured window's figure is the process after it)`;
    rows.push(
      row({
        figure: `CPU per event: billing serve, concurrency ${r.concurrency}`,
        value: r.cpu.serve,
        unit: 'ms',
        baseline: 'bare express, same requests',
        baselineValue: b.ms,
        target: { on: 'value', op: '<=', limit: SERVE_TARGET_MS },
        note: `${runNote}; ${r.meanSend.toFixed(1)} messages per SendMessageBatch; answered ${r.answerRps.toFixed(0)} req/s (bare ${b.rps.toFixed(0)}), answer p99 ${r.answerP99} ms`,
      }),
      row({
        figure: `CPU per event: billing worker, concurrency ${r.concurrency}`,
        value: r.cpu.worker,
        unit: 'ms',
        baseline: 'raw SQL client, same events',
        baselineValue: raw.clientMs,
        target: { on: 'value', op: '<=', limit: WORKER_TARGET_MS },
        note: `${runNote}; main thread ${r.cpu.workerMain.toFixed(3)} ms; ${r.meanBatch.toFixed(1)} messages per receive, ${r.meanTransaction.toFixed(1)} per transaction; PostgreSQL ${r.cpu.postgres.toFixed(3)} ms per event (raw SQL's ${raw.postgresMs.toFixed(3)})`,
      }),
      row({
        figure: `CPU per event: billing worker on a backlog, after concurrency ${r.concurrency}`,
        value: r.backlog.worker,
        unit: 'ms',
        baseline: 'raw SQL client, same events',
        baselineValue: raw.clientMs,
        target: { on: 'value', op: '<=', limit: WORKER_TARGET_MS },
        note: `main thread ${r.backlog.workerMain.toFixed(3)} ms; the same worker, paused while ${sizes.events} more were queued, then timed taking them (full receives and transactions; serve and the load generator idle): ${r.backlog.perSecond.toFixed(0)} events/s, ${r.backlog.meanTransaction.toFixed(1)} messages per transaction, PostgreSQL ${r.backlog.postgres.toFixed(3)} ms and the SQS server ${r.backlog.sqs.toFixed(3)} ms per event`,
      }),
      row({
        figure: `CPU per event: billing serve during its warm-up, concurrency ${r.concurrency}`,
        value: r.warmup.serve,
        unit: 'ms',
        baseline: 'billing serve after it',
        baselineValue: r.cpu.serve,
        target: null,
        note: warmupNote,
      }),
      row({
        figure: `CPU per event: billing worker during its warm-up, concurrency ${r.concurrency}`,
        value: r.warmup.worker,
        unit: 'ms',
        baseline: 'billing worker after it',
        baselineValue: r.cpu.worker,
        target: null,
        note: `${warmupNote}; main thread ${r.warmup.workerMain.toFixed(3)} ms`,
      }),
      row({
        figure: `CPU per event: SQS server, concurrency ${r.concurrency}`,
        value: r.cpu.sqs,
        unit: 'ms',
        baseline: '-',
        baselineValue: null,
        target: null,
        note: 'the send and the receive/delete of each event',
      }),
      row({
        figure: `rows landed: serve + worker, concurrency ${r.concurrency}`,
        value: r.landedPerSecond,
        unit: 'rows/s',
        baseline: `raw SQL, 1 transaction per event, ${connections} connections`,
        baselineValue: raw.rate,
        target: null,
        note: 'events ÷ (first post → last row committed); bounded by what the two shared cores give all processes together',
      }),
    );
  });
  return rows;
}
