// Load generators: autocannon for throughput, an open-loop sender for latency at a fixed rate.
import autocannon from 'autocannon';
import http from 'node:http';
import type { SignedWebhook } from './workload';

export interface ThroughputRun {
  rps: number;
  p99: number;
  failures: number;
}

/** Closed loop: `connections` keep-alive connections, each sending its next request as soon as the last is answered. */
export async function saturate(url: string, connections: number, seconds: number, next: () => SignedWebhook): Promise<ThroughputRun> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
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
  return { rps: result.requests.average, p99: result.latency.p99, failures: result.non2xx + result.errors + result.timeouts };
}

export const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

export interface RateRun {
  /** Milliseconds from each request's scheduled send time to its answer, ascending. */
  latencies: number[];
  failures: number;
  offered: number;
}

export interface RateOptions {
  url: string;
  rate: number;
  seconds: number;
  next: () => SignedWebhook;
  /** Called with each request's scheduled send time (performance.now()) as it goes out. */
  onSend?: (w: SignedWebhook, scheduledAt: number) => void;
}

/**
 * Open loop: request i is due at start + i / rate whatever happened to the earlier ones, and its
 * latency counts from that moment, so a stall shows up in the figure instead of slowing the
 * sender (autocannon's rate limit sends each second's quota in a burst and then waits).
 */
export async function fixedRate(o: RateOptions): Promise<RateRun> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const u = new URL(o.url);
  const total = Math.round(o.rate * o.seconds);
  const latencies: number[] = [];
  let failures = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now() + 20;
  const send = (scheduledAt: number) =>
    new Promise<void>((resolve) => {
      const w = o.next();
      o.onSend?.(w, scheduledAt);
      const req = http.request(
        { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(w.body), 'stripe-signature': w.signature } },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - scheduledAt);
            if ((res.statusCode ?? 0) >= 300) failures++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failures++;
        resolve();
      });
      req.end(w.body);
    });
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(due));
  }
  await Promise.all(pending);
  agent.destroy();
  return { latencies: latencies.sort((a, b) => a - b), failures, offered: total };
}
