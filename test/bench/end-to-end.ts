// End to end: `npm start` (webhook, worker, mailer and sweep in one process, embedded PostgreSQL
// and SQS), webhooks at a fixed rate, each timed until its invoice row can be read.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/embedded/embedded-postgres';
import { TEST_SECRET } from '../support/stripe-events';
import { connect } from './bench-database';
import { fixedRate, percentile } from './load';
import { postgresPids, startChild, treeCpuSeconds, type Child } from './processes';
import { row, type Row } from './report';
import { lifecycleStream, signedFrom } from './workload';

export interface EndToEndSizes {
  rate: number;
  seconds: number;
  /**
   * Seconds at the same rate before the measured run, timed apart: a process that has just started
   * runs cold (JIT, an empty buffer cache, first plans) and builds a backlog that says more about
   * start-up than about the steady state the target is for. Its own p99 is reported beside.
   */
  warmupSeconds: number;
}

const POLL_MS = 20;
const WATCHED = 300;

const pgCpu = (dev: Child) => postgresPids(dev.proc.pid).reduce((n, pid) => n + treeCpuSeconds(pid), 0);

/** The embedded database's URL: port from the banner, password from beside the data dir. */
function databaseUrl(banner: string, dataDir: string): string {
  const m = /database\s+(postgres:\/\/\S+)/.exec(banner);
  if (!m) throw new Error(`no database in the banner:\n${banner}`);
  const u = new URL(m[1]!);
  u.password = fs.readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
  return u.toString();
}

export async function endToEndSection(sizes: EndToEndSizes): Promise<Row[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-bench-e2e-'));
  fs.chmodSync(dataDir, 0o755);
  const port = await freePort();
  // What `npm start` runs once it has built: the bench has just built.
  const dev = await startChild({
    kind: 'node',
    args: ['dist/src/cli.js', 'dev'],
    env: { DATA_DIR: dataDir, PORT: String(port), STRIPE_WEBHOOK_SECRET: TEST_SECRET },
    ready: /dead letters/,
    label: 'dev',
  });
  const db = await connect(databaseUrl(dev.output(), dataDir));
  const outstanding = new Map<string, number>();
  // The phase being timed collects here; the warm-up and the measured run each get their own.
  let latencies: number[] = [];
  // The slowest event sent in each second of the phase: a stall shows as a run of slow seconds.
  let slowestBySecond: number[] = [];
  let phaseStart = 0;
  let watching = true;
  // Every POLL_MS, one query for the oldest WATCHED events still outstanding: the database being
  // measured is not made to look up a growing backlog. An event done before it is among the
  // oldest is seen late, so the figure can only err on the slow side.
  // An event is marked processed in the transaction that merges it into its invoice row, so the
  // row shows the event exactly when the mark does.
  const watcher = (async () => {
    while (watching || outstanding.size > 0) {
      const ids: string[] = [];
      for (const id of outstanding.keys()) if (ids.push(id) >= WATCHED) break;
      if (ids.length > 0) {
        const seen = (await db.query(`SELECT id FROM stripe_events WHERE id = ANY($1) AND processed_at IS NOT NULL`, [ids])).rows as { id: string }[];
        const now = performance.now();
        for (const { id } of seen) {
          const sentAt = outstanding.get(id)!;
          latencies.push(now - sentAt);
          const second = Math.max(0, Math.floor((sentAt - phaseStart) / 1000));
          slowestBySecond[second] = Math.max(slowestBySecond[second] ?? 0, now - sentAt);
          outstanding.delete(id);
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  const stream = lifecycleStream(Math.round(sizes.rate * (sizes.warmupSeconds + sizes.seconds)), 'e2e');
  const next = signedFrom(stream.bodies, stream.eventIds);
  /** Offers `seconds` of webhooks at the rate and waits until each one's event is visible. */
  const phase = async (seconds: number) => {
    latencies = [];
    slowestBySecond = [];
    phaseStart = performance.now();
    const run = await fixedRate({
      url: `http://127.0.0.1:${port}/webhooks/stripe`,
      rate: sizes.rate,
      seconds,
      next,
      onSend: (w, at) => outstanding.set(w.eventId, at),
    });
    if (run.failures > 0) throw new Error(`npm start failed ${run.failures} of ${run.offered} webhooks`);
    const deadline = Date.now() + 120_000;
    while (outstanding.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (outstanding.size > 0) throw new Error(`${outstanding.size} events never became visible`);
    return { run, latencies: latencies.sort((a, b) => a - b), slowestBySecond };
  };
  try {
    const warm = sizes.warmupSeconds > 0 ? await phase(sizes.warmupSeconds) : undefined;
    const cpu0 = { node: dev.ownCpuSeconds(), postgres: pgCpu(dev) };
    const { run, slowestBySecond: slowest } = await phase(sizes.seconds);
    watching = false;
    await watcher;
    const rss = dev.peakRssMB();
    const perEvent = (s: number) => ((s * 1e6) / run.offered).toFixed(0);
    const cpu = `CPU per event: npm start ${perEvent(dev.ownCpuSeconds() - cpu0.node)} µs, its PostgreSQL ${perEvent(pgCpu(dev) - cpu0.postgres)} µs`;
    const warned = dev.warnings();
    const slowSeconds = slowest.filter((ms) => ms > 1000).length;
    const worst = slowest.reduce((w, ms, i) => (ms > (slowest[w] ?? 0) ? i : w), 0);
    const stalls = `${slowSeconds} of ${sizes.seconds} s had an event slower than 1 s (worst: ${(slowest[worst] ?? 0).toFixed(0)} ms, sent in second ${worst + 1})`;
    const cold = warm
      ? `; the ${sizes.warmupSeconds} s warm-up before it, from a cold start: p99 ${percentile(warm.latencies, 99).toFixed(0)} ms, median ${percentile(warm.latencies, 50).toFixed(0)} ms`
      : '';
    process.stderr.write(`end to end: p99 ${percentile(latencies, 99).toFixed(0)} ms, answer p99 ${percentile(run.latencies, 99).toFixed(0)} ms; ${cpu}; ${stalls}${cold}\n`);
    process.stderr.write(`slowest event per second sent (ms): ${slowest.map((ms) => ms.toFixed(0)).join(' ')}\n`);
    if (warned.count > 0) process.stderr.write(`npm start logged ${warned.count} line(s) at warn or above; the first:\n${warned.first.join('\n')}\n`);
    return [
      row({
        figure: `end to end: npm start, ${sizes.rate} events/s for ${sizes.seconds} s${warm ? ` after ${sizes.warmupSeconds} s of warm-up` : ''}, webhook → invoice row visible, p99`,
        value: percentile(latencies, 99),
        unit: 'ms',
        baseline: 'webhook answer p99, same run',
        baselineValue: percentile(run.latencies, 99),
        ratio: null,
        target: { on: 'value', op: '<=', limit: 1000 },
        note: `one run of ${run.offered} events, whole invoice lifecycles interleaved; visible = the event committed with its invoice row, the oldest ${WATCHED} outstanding polled every ${POLL_MS} ms; median ${percentile(latencies, 50).toFixed(0)} ms; ${cpu}; ${stalls}; ${warned.count} log line(s) at warn or above${cold}`,
      }),
      row({
        figure: 'npm start peak RSS during the end-to-end run',
        value: rss,
        unit: 'MB',
        baseline: '-',
        baselineValue: null,
        target: { on: 'value', op: '<=', limit: 350 },
        note: 'the node process (embedded SQS included); embedded PostgreSQL runs in its own processes',
      }),
    ];
  } finally {
    watching = false;
    outstanding.clear();
    await watcher.catch(() => undefined);
    await db.end();
    await dev.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
