// Drain: `billing worker` emptying a filled queue into PostgreSQL, beside the raw-SQL and SQS ceilings.
import { loadConfig } from '../../src/config';
import { connect, createBenchDatabase, processedEvents, type BenchDatabase } from './bench-database';
import { postgresPids, startChild, treeCpuSeconds, whilePaused, type Child } from './processes';
import { rawSqlCeiling } from './raw-sql-ceiling';
import { median, row, type Row } from './report';
import { centralRate, dropQueue, fill, freshQueue, queueDepth, receiveDeleteCeiling, type BenchSqs } from './sqs-admin';
import { drainWorkload, type DrainWorkload } from './workload';

export interface DrainSizes {
  rounds: number;
  /** WORKER_POLLERS for the worker, and the concurrency of the SQS ceiling beside it. */
  pollers: number;
  invoices: number;
  smallPreload: number;
  largePreload: number;
}

interface WorkerRun {
  rate: number;
  rssMB: number;
  /** CPU per message of each party over the whole run, in µs: where the two cores went. */
  cpu: { worker: number; sqs: number; postgres: number };
  /** Checkpoints the server started during the run: their writes share the disk with the run's commits. */
  checkpoints: number;
}

const postgresCpu = () => postgresPids().reduce((n, pid) => n + treeCpuSeconds(pid), 0);

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Lets a started worker drain `w` completely (every event committed, every message deleted: the
 * queue server's count holds the messages in flight), so
 * V8 has compiled the hot code before the measured drain: a worker that has been running for a
 * while is what meets a backlog after an outage or a burst.
 */
async function warmUp(sqs: BenchSqs, db: BenchDatabase, queueUrl: string, w: DrainWorkload, worker: Child): Promise<void> {
  await fill(sqs, queueUrl, w.bodies);
  const deadline = Date.now() + 240_000;
  while ((await processedEvents(db)) < w.distinctEvents || (await queueDepth(sqs, queueUrl)) > 0) {
    if (worker.proc.exitCode !== null || Date.now() > deadline) throw new Error(`warm-up incomplete\n${worker.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Starts a worker on a filled queue and waits until every distinct event is processed. With
 * `warm`, the worker first drains that workload, is paused (SIGSTOP) while the database is reset
 * and the queue filled, and is timed from its resumption.
 */
async function drainOnce(sqs: BenchSqs, db: BenchDatabase, w: DrainWorkload, env: Record<string, string>, warm?: DrainWorkload): Promise<WorkerRun> {
  await db.reset();
  const queueUrl = await freshQueue(sqs, 'bench-drain');
  if (!warm) await fill(sqs, queueUrl, w.bodies);
  const worker = await startChild({
    kind: 'node',
    args: ['dist/src/cli.js', 'worker'],
    env: { ...env, SQS_QUEUE_URL: queueUrl, DATABASE_URL: db.url, SQS_WAIT_TIME_SECONDS: '1', PORT: '0' },
    ready: /stripe-billing worker/,
    label: `worker-${db.preloaded}${warm ? '-warm' : ''}`,
  });
  // From the banner (or, for a running worker, the pause) on: the worker starts polling in the
  // same turn, and its start-up (loading modules, connecting, checking migrations) is not a cost
  // of the messages. A paused worker uses no CPU, so its counters are read before it resumes.
  const cpuNow = () => ({ worker: worker.ownCpuSeconds(), sqs: sqs.cpuSeconds(), postgres: postgresCpu() });
  let cpu0 = cpuNow();
  let checkpoints0 = await db.checkpoints();
  if (warm) {
    try {
      await warmUp(sqs, db, queueUrl, warm, worker);
      await whilePaused(worker, async () => {
        await db.reset();
        await fill(sqs, queueUrl, w.bodies);
        cpu0 = cpuNow();
        checkpoints0 = await db.checkpoints();
      });
    } catch (err) {
      await worker.stop();
      await dropQueue(sqs, queueUrl);
      throw err;
    }
  }
  const check = await connect(db.url);
  try {
    // The queue server answers "how many left" without touching the database being measured; a
    // message is deleted only after its event committed, so an empty queue means all committed.
    const deadline = Date.now() + 240_000;
    while ((await queueDepth(sqs, queueUrl)) > 0) {
      if (worker.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`drain incomplete: ${await queueDepth(sqs, queueUrl)} messages left\n${worker.output().slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const done = Number((await check.query(`SELECT count(*) AS n FROM stripe_events WHERE processed_at IS NOT NULL`)).rows[0].n);
    if (done !== w.distinctEvents) throw new Error(`the queue is empty but ${done} of ${w.distinctEvents} events are processed`);
    const rows = (await check.query(`SELECT extract(epoch from processed_at) * 1000 AS t FROM stripe_events`)).rows as { t: string }[];
    // A wrong merge would make the figure meaningless: every invoice of the workload is terminal.
    const ends = (await check.query(`SELECT count(*) FILTER (WHERE status IN ('paid', 'void')) AS ended, count(*) AS n FROM invoices WHERE last_event_id NOT LIKE 'evt_pre_%'`)).rows[0];
    if (Number(ends.ended) !== w.invoices || Number(ends.n) !== w.invoices) {
      throw new Error(`after the drain ${ends.ended} of ${ends.n} invoices ended paid or void; expected all ${w.invoices}`);
    }
    // Every paid invoice's charge must be linked to it through its payment, whichever came first.
    const linked = Number((await check.query(`SELECT count(*) AS n FROM charges c JOIN invoices i USING (stripe_invoice_id) WHERE i.status = 'paid' AND c.receipt_url IS NOT NULL AND c.last_event_id NOT LIKE 'evt_pre_%'`)).rows[0].n);
    if (linked !== w.paidInvoices) throw new Error(`after the drain ${linked} charges are linked to their paid invoices; expected ${w.paidInvoices}`);
    // Redeliveries leave no row of their own; they are spread evenly by the shuffle, so the rate of
    // distinct events scales to the rate of messages.
    const rate = centralRate(rows.map((r) => Number(r.t))) * (w.bodies.length / w.distinctEvents);
    const perMessage = (seconds: number) => (seconds * 1e6) / w.bodies.length;
    const cpu1 = cpuNow();
    const cpu = { worker: perMessage(cpu1.worker - cpu0.worker), sqs: perMessage(cpu1.sqs - cpu0.sqs), postgres: perMessage(cpu1.postgres - cpu0.postgres) };
    return { rate, rssMB: worker.peakRssMB(), cpu, checkpoints: (await db.checkpoints()) - checkpoints0 };
  } finally {
    await check.end();
    await worker.stop();
    await dropQueue(sqs, queueUrl);
  }
}

export async function drainSection(sqs: BenchSqs, adminUrl: string, sizes: DrainSizes, env: Record<string, string>): Promise<Row[]> {
  // The pool is the product's default, and the raw-SQL baseline gets as many connections.
  const connections = loadConfig({}).databasePoolSize;
  const pollers = sizes.pollers;
  const workerEnv = { ...env, WORKER_POLLERS: String(pollers) };
  const small = await createBenchDatabase(adminUrl, sizes.smallPreload);
  const large = await createBenchDatabase(adminUrl, sizes.largePreload);
  const smallRuns: WorkerRun[] = [];
  // The same drain by a worker that has already drained as much: what a running worker sustains.
  const warmRuns: WorkerRun[] = [];
  const largeRuns: WorkerRun[] = [];
  // The same worker with one transaction per receive, as it ran before receives shared them.
  const perReceiveRuns: WorkerRun[] = [];
  const ceilings: number[] = [];
  const ceilingCheckpoints: number[] = [];
  const sqsCeilings: number[] = [];
  const sdkCpu: number[] = [];
  try {
    // The raw-SQL client runs in this process: warmed once, as the running worker is.
    await small.reset();
    await rawSqlCeiling(small.url, drainWorkload(sizes.invoices, 'ceiling-warm', 40_000).bodies, connections);
    for (let r = 0; r < sizes.rounds; r++) {
      const w = drainWorkload(sizes.invoices, `r${r}`, 20_000 + r);
      smallRuns.push(await drainOnce(sqs, small, w, workerEnv));
      largeRuns.push(await drainOnce(sqs, large, w, workerEnv));
      perReceiveRuns.push(await drainOnce(sqs, small, w, { ...workerEnv, WORKER_TRANSACTIONS: String(pollers) }));
      // Right before the ceiling it is compared with: the machine's load moves between rounds.
      warmRuns.push(await drainOnce(sqs, small, w, workerEnv, drainWorkload(sizes.invoices, `warm${r}`, 30_000 + r)));
      await small.reset();
      const checkpoints0 = await small.checkpoints();
      ceilings.push(await rawSqlCeiling(small.url, w.bodies, connections));
      ceilingCheckpoints.push((await small.checkpoints()) - checkpoints0);
      const url = await freshQueue(sqs, 'bench-receive');
      await fill(sqs, url, w.bodies);
      const ceiling = await receiveDeleteCeiling(sqs, url, w.bodies.length, pollers);
      sqsCeilings.push(ceiling.rate);
      sdkCpu.push(ceiling.cpuMicrosPerMessage);
      await dropQueue(sqs, url);
      const [fresh, warm] = [smallRuns[r]!, warmRuns[r]!];
      const cpu = (x: WorkerRun) => `worker ${x.cpu.worker.toFixed(0)}, SQS server ${x.cpu.sqs.toFixed(0)}, PostgreSQL ${x.cpu.postgres.toFixed(0)}`;
      process.stderr.write(
        `drain round ${r + 1}: warm worker ${warm.rate.toFixed(0)} msg/s, raw SQL ${ceilings[r]!.toFixed(0)} (${(warm.rate / ceilings[r]!).toFixed(2)}×); ` +
          `fresh worker ${fresh.rate.toFixed(0)} / ${largeRuns[r]!.rate.toFixed(0)} msg/s (small / large preload); SQS ${sqsCeilings[r]!.toFixed(0)}; ` +
          `CPU µs/msg warm: ${cpu(warm)}; fresh: ${cpu(fresh)}; peak RSS MB warm ${warm.rssMB.toFixed(1)}, fresh ${fresh.rssMB.toFixed(1)} / ${largeRuns[r]!.rssMB.toFixed(1)}; ` +
          `checkpoints started during the drains ${warm.checkpoints} (warm), ${fresh.checkpoints} (fresh), during the raw-SQL ceiling ${ceilingCheckpoints[r]}\n`,
      );
    }
  } finally {
    await small.drop();
    await large.drop();
  }
  const messages = drainWorkload(sizes.invoices, 'count').bodies.length;
  const drain = median(smallRuns.map((x) => x.rate));
  const drainLarge = median(largeRuns.map((x) => x.rate));
  const rounds = `median of ${sizes.rounds}; messages/s between 1 % and 99 % done`;
  // Each round's drain against that round's ceiling: the machine's load moves the two together.
  const ratioByRound = (runs: WorkerRun[]) => median(runs.map((x, r) => x.rate / ceilings[r]!));
  const cpuOf = (runs: WorkerRun[], k: keyof WorkerRun['cpu']) => median(runs.map((x) => x.cpu[k])).toFixed(0);
  const cpuPerMessage = (runs: WorkerRun[]) => `CPU per message (median): worker ${cpuOf(runs, 'worker')} µs, SQS server ${cpuOf(runs, 'sqs')} µs, PostgreSQL ${cpuOf(runs, 'postgres')} µs`;
  const ratioNote = (runs: WorkerRun[]) =>
    `ratio: the median of the rounds' own ratios (${runs.map((x, r) => (x.rate / ceilings[r]!).toFixed(2)).join(', ')}), each drain against the ceiling of its round (${ceilings.map((c) => c.toFixed(0)).join(', ')} msg/s)`;
  return [
    row({
      figure: `drain: billing worker, ${fmt(messages)} messages over ${fmt(sizes.invoices)} invoices (${fmt(sizes.smallPreload)} preloaded), a running worker`,
      value: median(warmRuns.map((x) => x.rate)),
      unit: 'msg/s',
      baseline: `raw SQL, 1 transaction per event, ${connections} connections`,
      baselineValue: median(ceilings),
      ratio: ratioByRound(warmRuns),
      target: { on: 'ratio', op: '>=', limit: 0.8, stretch: 1.0 },
      note: `${rounds}; the worker first drained as many messages of other invoices, then was paused while the database was reset and the queue filled, and timed from its resumption, right before the ceiling; ${ratioNote(warmRuns)}; WORKER_POLLERS=${pollers}, DATABASE_POOL_SIZE ${connections} (default); ${cpuPerMessage(warmRuns)}`,
    }),
    row({
      figure: `drain: billing worker from a fresh start, same workload`,
      value: drain,
      unit: 'msg/s',
      baseline: `raw SQL, 1 transaction per event, ${connections} connections`,
      baselineValue: median(ceilings),
      ratio: ratioByRound(smallRuns),
      target: null,
      note: `${rounds}; a worker started on the filled queue, timed from its banner: its first seconds are spent with V8 compiling the hot code on helper threads beside PostgreSQL; the first run of each round; ${ratioNote(smallRuns)}; ${cpuPerMessage(smallRuns)}`,
    }),
    row({
      figure: 'drain: billing worker CPU per message, receives sharing transactions',
      value: Number(cpuOf(smallRuns, 'worker')),
      unit: 'µs',
      baseline: `one transaction per receive (WORKER_TRANSACTIONS=${pollers}), same workload`,
      baselineValue: median(perReceiveRuns.map((x) => x.cpu.worker)),
      target: null,
      note: `${rounds.split(';')[0]}, run in turn; default WORKER_TRANSACTIONS ${loadConfig({}).workerTransactions}; one per receive drained ${median(perReceiveRuns.map((x) => x.rate)).toFixed(0)} msg/s with PostgreSQL at ${median(perReceiveRuns.map((x) => x.cpu.postgres)).toFixed(0)} µs per message`,
    }),
    row({
      figure: `SQS server alone: receive 10 + delete batch, ${pollers} pollers`,
      value: median(sqsCeilings),
      unit: 'msg/s',
      baseline: 'drain (billing worker)',
      baselineValue: drain,
      ratio: drain / median(sqsCeilings),
      target: null,
      note: `${rounds}; ratio = drain / this ceiling`,
    }),
    row({
      figure: 'AWS SDK alone: receive 10 + delete batch, CPU per message',
      value: median(sdkCpu),
      unit: 'µs',
      baseline: 'billing worker, CPU per drained message',
      baselineValue: Number(cpuOf(smallRuns, 'worker')),
      target: null,
      note: `${rounds.split(';')[0]}; the two SDK calls a worker makes per receive, in the bench's own process with the worker's client options: the share of the worker's CPU that is the SDK's (ratio = SDK / worker)`,
    }),
    row({
      figure: `drain cost per event, ${fmt(sizes.largePreload)} invoices preloaded`,
      value: 1000 / drainLarge,
      unit: 'ms',
      baseline: `with ${fmt(sizes.smallPreload)} preloaded`,
      baselineValue: 1000 / drain,
      target: { on: 'ratio', op: '<=', limit: 1.3 },
      note: `${rounds}; same workload, rounds alternate between the two tables`,
    }),
    row({
      figure: 'billing worker peak RSS during the drains',
      value: Math.max(...[...smallRuns, ...largeRuns, ...warmRuns].map((x) => x.rssMB)),
      unit: 'MB',
      baseline: '-',
      baselineValue: null,
      target: { on: 'value', op: '<=', limit: 250 },
      note: 'highest of all drain runs (a running worker\'s warm-up included), /proc VmRSS sampled every 100 ms',
    }),
  ];
}
