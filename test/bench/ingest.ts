// Ingest: `billing serve` against a bare express endpoint, same requests, same load generator.
import { spawn } from 'node:child_process';
import { freePort } from '../../src/embedded/embedded-postgres';
import { fixedRate, percentile, saturate } from './load';
import { startChild, type Child } from './processes';
import { median, row, type Row } from './report';
import { dropQueue, freshQueue, sendCeiling, type BenchSqs } from './sqs-admin';
import { webhookFactory } from './workload';

export interface IngestSizes {
  rounds: number;
  throughputSeconds: number;
  connections: number;
  rate: number;
  rateSeconds: number;
  /** The bare endpoint's latency only frames the figure, so it gets shorter rounds. */
  bareRateSeconds: number;
  /** Pairs of billing serve runs with and without a /metrics scraper, in alternating order. */
  scrapeRounds: number;
}

const QUEUE = 'bench-ingest';
/** The target: billing serve's throughput against the bare endpoint's. */
const THROUGHPUT_TARGET = 0.6;
/** Serving /metrics may cost the webhook at most 3 % of its throughput. */
const SCRAPED_TARGET = 0.97;
/** As an operator would set it: the scrape pays the token check too. */
const METRICS_TOKEN = 'bench-metrics-token-0123456789abcdef';

interface Scrapes {
  ok: number;
  failed: number;
  ms: number[];
  bytes: number;
}

/**
 * The scraper, in a process of its own as Prometheus is: GETs /metrics every second and prints one
 * line per scrape. In this process it would share the event loop of the load generator, and a
 * slower load generator makes billing serve batch fewer sends together (its CPU per request rises),
 * which is no cost of serving /metrics.
 */
const SCRAPER = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true });
const scrape = () => {
  const t0 = performance.now();
  http.get(process.env.SCRAPE_URL, { agent, headers: { authorization: 'Bearer ' + process.env.SCRAPE_TOKEN } }, (res) => {
    let text = '';
    res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => {
      const ok = res.statusCode === 200 && text.includes('billing_webhook_requests_total{outcome="enqueued"}');
      process.stdout.write(JSON.stringify({ ok, ms: performance.now() - t0, bytes: text.length }) + '\\n');
    });
  }).on('error', () => process.stdout.write(JSON.stringify({ ok: false }) + '\\n'));
};
scrape();
setInterval(scrape, 1000);
`;

/** Starts the scraper and resolves once its first scrape answered, so its start-up is outside the measured run. */
async function startScraper(url: string): Promise<{ stop(): Promise<Scrapes> }> {
  const s: Scrapes = { ok: 0, failed: 0, ms: [], bytes: 0 };
  const proc = spawn(process.execPath, ['-e', SCRAPER], { env: { PATH: process.env['PATH'] ?? '', SCRAPE_URL: url, SCRAPE_TOKEN: METRICS_TOKEN }, stdio: ['ignore', 'pipe', 'inherit'] });
  let partial = '';
  let first: () => void = () => undefined;
  const firstScrape = new Promise<void>((resolve) => (first = resolve));
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const r = JSON.parse(line) as { ok: boolean; ms?: number; bytes?: number };
      if (!r.ok) s.failed++;
      else {
        s.ok++;
        s.ms.push(r.ms!);
        s.bytes = r.bytes!;
      }
      first();
    }
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await Promise.race([firstScrape, exited]);
  // The first scrape was before the run: only those during it count.
  s.ok = 0;
  s.failed = 0;
  s.ms = [];
  return {
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
      return s;
    },
  };
}

/** The load generator runs in this process (autocannon is in-process), so its CPU is ours. */
function loadGeneratorCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const perRequest = (cpuSeconds: number, rps: number, seconds: number) => (cpuSeconds * 1e6) / (rps * seconds);

export async function ingestSection(sqs: BenchSqs, sizes: IngestSizes, env: Record<string, string>): Promise<Row[]> {
  const next = webhookFactory();
  const barePort = await freePort();
  const servePort = await freePort();
  let queueUrl = await freshQueue(sqs, QUEUE);
  const children: Child[] = [];
  // The server keeps every message; a fresh queue per run keeps its memory (and GC) flat.
  const resetQueue = async () => {
    queueUrl = await freshQueue(sqs, QUEUE);
  };
  try {
    const bare = await startChild({ kind: 'tsx', args: ['test/bench/bare-server.ts'], env: { PORT: String(barePort) }, ready: /listening/ });
    children.push(bare);
    const serve = await startChild({
      kind: 'node',
      args: ['dist/src/cli.js', 'serve'],
      env: { ...env, SQS_QUEUE_URL: queueUrl, PORT: String(servePort), METRICS_TOKEN },
      ready: /webhook URL/,
      label: 'serve',
    });
    children.push(serve);
    const bareUrl = `http://127.0.0.1:${barePort}/webhooks/stripe`;
    const serveUrl = `http://127.0.0.1:${servePort}/webhooks/stripe`;
    await saturate(serveUrl, sizes.connections, 2, next); // warm-up: JIT, sockets, the queue's size limit
    await saturate(bareUrl, sizes.connections, 2, next);

    // Alternating rounds, so drift on the shared machine hits both alike.
    const bareRuns = [];
    const serveRuns = [];
    const cpu = { serve: [] as number[], sqs: [] as number[], bare: [] as number[], loadServe: [] as number[], loadBare: [] as number[] };
    for (let r = 0; r < sizes.rounds; r++) {
      const b0 = bare.cpuSeconds();
      const bl0 = loadGeneratorCpuSeconds();
      bareRuns.push(await saturate(bareUrl, sizes.connections, sizes.throughputSeconds, next));
      cpu.bare.push(perRequest(bare.cpuSeconds() - b0, bareRuns[r]!.rps, sizes.throughputSeconds));
      cpu.loadBare.push(perRequest(loadGeneratorCpuSeconds() - bl0, bareRuns[r]!.rps, sizes.throughputSeconds));
      await resetQueue();
      const s0 = serve.cpuSeconds();
      const q0 = sqs.cpuSeconds();
      const sl0 = loadGeneratorCpuSeconds();
      serveRuns.push(await saturate(serveUrl, sizes.connections, sizes.throughputSeconds, next));
      cpu.serve.push(perRequest(serve.cpuSeconds() - s0, serveRuns[r]!.rps, sizes.throughputSeconds));
      cpu.sqs.push(perRequest(sqs.cpuSeconds() - q0, serveRuns[r]!.rps, sizes.throughputSeconds));
      cpu.loadServe.push(perRequest(loadGeneratorCpuSeconds() - sl0, serveRuns[r]!.rps, sizes.throughputSeconds));
      process.stderr.write(
        `ingest round ${r + 1}: serve ${serveRuns[r]!.rps.toFixed(0)} req/s, bare ${bareRuns[r]!.rps.toFixed(0)} req/s; ` +
          `CPU µs/request serve ${cpu.serve[r]!.toFixed(0)}, SQS server ${cpu.sqs[r]!.toFixed(0)}, load generator ${cpu.loadServe[r]!.toFixed(0)}; ` +
          `bare ${cpu.bare[r]!.toFixed(0)}, load generator ${cpu.loadBare[r]!.toFixed(0)}\n`,
      );
    }
    const failures = serveRuns.reduce((n, r) => n + r.failures, 0);
    if (failures > 0) throw new Error(`billing serve failed ${failures} requests under load; the figure would be meaningless`);

    // The scraper's cost: the same server, with and without a scrape every second, in pairs whose
    // order alternates so that drift on the shared machine favours neither. The two runs of a pair
    // are seconds apart, so their ratio is taken first, then the median of the pairs' ratios.
    const plainRuns: number[] = [];
    const scrapedRuns: number[] = [];
    const scrapeCpu = { plain: [] as number[], scraped: [] as number[] };
    const scrapes: Scrapes = { ok: 0, failed: 0, ms: [], bytes: 0 };
    const metricsUrl = `http://127.0.0.1:${servePort}/metrics`;
    for (let r = 0; r < sizes.scrapeRounds; r++) {
      for (const scraped of r % 2 === 0 ? [false, true] : [true, false]) {
        await resetQueue();
        const scraper = scraped ? await startScraper(metricsUrl) : undefined;
        const s0 = serve.cpuSeconds();
        const run = await saturate(serveUrl, sizes.connections, sizes.throughputSeconds, next);
        if (run.failures > 0) throw new Error(`billing serve failed ${run.failures} requests under load${scraped ? ' while scraped' : ''}`);
        (scraped ? scrapedRuns : plainRuns).push(run.rps);
        (scraped ? scrapeCpu.scraped : scrapeCpu.plain).push(perRequest(serve.cpuSeconds() - s0, run.rps, sizes.throughputSeconds));
        if (scraper) {
          const s = await scraper.stop();
          scrapes.ok += s.ok;
          scrapes.failed += s.failed;
          scrapes.ms.push(...s.ms);
          scrapes.bytes = s.bytes;
        }
      }
      process.stderr.write(
        `scrape round ${r + 1}: serve ${plainRuns[r]!.toFixed(0)} req/s unscraped, ${scrapedRuns[r]!.toFixed(0)} req/s scraped every second; ` +
          `CPU µs/request ${scrapeCpu.plain[r]!.toFixed(0)} unscraped, ${scrapeCpu.scraped[r]!.toFixed(0)} scraped\n`,
      );
    }
    if (scrapes.failed > 0 || scrapes.ok === 0) throw new Error(`${scrapes.failed} of ${scrapes.failed + scrapes.ok} scrapes of ${metricsUrl} failed`);
    const scrapeMs = [...scrapes.ms].sort((a, b) => a - b);
    const scrapedRatio = median(scrapedRuns.map((rps, i) => rps / plainRuns[i]!));

    const bareP99: number[] = [];
    const serveP99: number[] = [];
    for (let r = 0; r < sizes.rounds; r++) {
      await resetQueue();
      const s = await fixedRate({ url: serveUrl, rate: sizes.rate, seconds: sizes.rateSeconds, next });
      if (s.failures > 0) throw new Error(`billing serve failed ${s.failures} of ${s.offered} requests at ${sizes.rate} req/s`);
      serveP99.push(percentile(s.latencies, 99));
      const b = await fixedRate({ url: bareUrl, rate: sizes.rate, seconds: sizes.bareRateSeconds, next });
      bareP99.push(percentile(b.latencies, 99));
      process.stderr.write(`latency round ${r + 1}: serve p99 ${serveP99[r]!.toFixed(1)} ms, bare ${bareP99[r]!.toFixed(1)} ms\n`);
    }

    await resetQueue();
    const body = next().body;
    const ceiling = await sendCeiling(sqs, queueUrl, body, 4, 10, Math.min(5, sizes.throughputSeconds));
    const rps = median(serveRuns.map((r) => r.rps));
    // Every process of a run shares the same cores, so the throughput ratio follows the ratio of
    // the CPU each request costs them all; this row shows where the product's share must end.
    const us = { serve: median(cpu.serve), sqs: median(cpu.sqs), loadServe: median(cpu.loadServe), bare: median(cpu.bare), loadBare: median(cpu.loadBare) };
    const serveAll = us.serve + us.sqs + us.loadServe;
    const bareAll = us.bare + us.loadBare;
    const allowed = bareAll / THROUGHPUT_TARGET;
    return [
      row({
        figure: `ingest throughput: billing serve, ${sizes.connections} connections`,
        value: rps,
        unit: 'req/s',
        baseline: 'bare express 200, same load',
        baselineValue: median(bareRuns.map((r) => r.rps)),
        target: { on: 'ratio', op: '>=', limit: THROUGHPUT_TARGET },
        note:
          `autocannon, distinct signed ~4 KB invoice.finalized per request; median of ${sizes.rounds} × ${sizes.throughputSeconds} s; ` +
          `CPU per request (median): billing serve ${us.serve.toFixed(0)} µs + SQS server ${us.sqs.toFixed(0)} µs, bare express ${us.bare.toFixed(0)} µs`,
      }),
      row({
        figure: `ingest throughput while /metrics is scraped every second, ${sizes.connections} connections`,
        value: median(scrapedRuns),
        unit: 'req/s',
        baseline: 'billing serve unscraped, same run',
        baselineValue: median(plainRuns),
        ratio: scrapedRatio,
        target: { on: 'ratio', op: '>=', limit: SCRAPED_TARGET },
        note:
          `${sizes.scrapeRounds} pairs × ${sizes.throughputSeconds} s, alternating which goes first; ratio = median of the pairs' ratios ` +
          `(${scrapedRuns.map((rps, i) => (rps / plainRuns[i]!).toFixed(2)).join(', ')}); ${scrapes.ok} scrapes with METRICS_TOKEN, ` +
          `${(scrapes.bytes / 1024).toFixed(1)} KB each, answered in ${percentile(scrapeMs, 50).toFixed(1)} ms (p50) / ${percentile(scrapeMs, 99).toFixed(1)} ms (p99) under load; ` +
          `billing serve's CPU per request (median) ${median(scrapeCpu.scraped).toFixed(0)} µs scraped, ${median(scrapeCpu.plain).toFixed(0)} µs unscraped, ` +
          `which other work on a shared machine moves less than the throughput`,
      }),
      row({
        figure: 'ingest CPU per request, all processes (serve + SQS server + load generator)',
        value: serveAll,
        unit: 'µs',
        baseline: 'bare express + load generator',
        baselineValue: bareAll,
        ratio: bareAll / serveAll,
        target: null,
        note:
          `ratio = bare / serve, what the throughput ratio follows when every process shares the cores; ` +
          `${THROUGHPUT_TARGET}× allows ${allowed.toFixed(0)} µs in all, of which the SQS server took ${us.sqs.toFixed(0)} and the load generator ` +
          `${us.loadServe.toFixed(0)}, leaving billing serve ${(allowed - us.sqs - us.loadServe).toFixed(0)} µs (it used ${us.serve.toFixed(0)}; bare express alone used ${us.bare.toFixed(0)}); ` +
          `without the SQS server's share, as with a remote queue, the same arithmetic gives ${(bareAll / (serveAll - us.sqs)).toFixed(2)}×`,
      }),
      row({
        figure: 'SQS server alone: SendMessageBatch of 10 × 4 KB, 4 in flight',
        value: ceiling,
        unit: 'msg/s',
        baseline: 'ingest throughput',
        baselineValue: rps,
        ratio: rps / ceiling,
        target: null,
        note: 'ratio = ingest / this ceiling',
      }),
      row({
        figure: `ingest p99 at ${sizes.rate} req/s offered`,
        value: median(serveP99),
        unit: 'ms',
        baseline: `bare express at ${sizes.rate} req/s`,
        baselineValue: median(bareP99),
        target: { on: 'value', op: '<=', limit: 50 },
        note: `open loop, latency from each request's scheduled time; median of ${sizes.rounds} × ${sizes.rateSeconds} s (bare ${sizes.bareRateSeconds} s)`,
      }),
    ];
  } finally {
    for (const c of children.reverse()) await c.stop();
    await dropQueue(sqs, queueUrl);
  }
}
