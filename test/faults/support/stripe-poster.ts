import http from 'node:http';
import { sign } from '../../support/stripe-events';
import { sleep } from '../../support/wait';

export interface PostResult {
  /** 0 when no HTTP answer came back (refused, reset, timed out). */
  status: number;
  ms: number;
  at: number;
  /** Whether a 2xx answer said `ignored: true`: verified, but of a type the processor does not handle. */
  ignored?: boolean;
}

// Webhook answers are a line of JSON; a longer body is not one of them and is not kept.
const ANSWER_BYTES = 4096;

function saidIgnored(body: string): boolean {
  try {
    return (JSON.parse(body) as { ignored?: unknown }).ignored === true;
  } catch {
    return false;
  }
}

// A fresh agent per poster: keep-alive as Stripe's senders do, without sockets from one scenario
// lingering into the next.
export function postRaw(baseUrl: string, body: string | Buffer, headers: Record<string, string>, agent?: http.Agent, timeoutMs = 15_000): Promise<PostResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const u = new URL('/webhooks/stripe', baseUrl);
    let req: http.ClientRequest;
    try {
      req = http.request(
        { hostname: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (body.length < ANSWER_BYTES) body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started, at: started, ignored: saidIgnored(body) }));
          res.on('error', () => resolve({ status: 0, ms: Date.now() - started, at: started }));
        },
      );
    } catch {
      // Node's client refuses some header values itself (line breaks); nothing was sent.
      return resolve({ status: -1, ms: 0, at: started });
    }
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: Date.now() - started, at: started }));
    req.end(body);
  });
}

export interface PosterStats {
  posts: number;
  /** Posts that got no 2xx and were posted again, as Stripe does. */
  reposts: number;
  byStatus: Record<string, number>;
  /** Every answer in time order, for checks of what was answered while something was down. */
  answers: PostResult[];
}

/**
 * Posts like Stripe: each event is signed afresh at every attempt and posted until it gets a
 * 2xx, with a short backoff standing in for Stripe's hours. Stripe also gives up after 3 days;
 * here `giveUpMs` only bounds the test.
 */
export class StripePoster {
  readonly stats: PosterStats = { posts: 0, reposts: 0, byStatus: {}, answers: [] };
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(
    private readonly baseUrl: () => string,
    private readonly secret: string,
    private readonly o: { backoffMs?: number; maxBackoffMs?: number; giveUpMs?: number } = {},
  ) {}

  /** Resolves once the event got a 2xx; throws if it never did within giveUpMs. */
  async deliver(payload: string): Promise<void> {
    const deadline = Date.now() + (this.o.giveUpMs ?? 180_000);
    let backoff = this.o.backoffMs ?? 200;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.stats.reposts++;
      const r = await postRaw(this.baseUrl(), payload, { 'content-type': 'application/json', 'stripe-signature': sign(payload, this.secret) }, this.agent);
      this.stats.posts++;
      this.stats.byStatus[r.status] = (this.stats.byStatus[r.status] ?? 0) + 1;
      this.stats.answers.push(r);
      if (r.status >= 200 && r.status < 300) return;
      if (Date.now() > deadline) throw new Error(`event never got a 2xx (last answer ${r.status})`);
      await sleep(backoff * (0.5 + Math.random()));
      backoff = Math.min(backoff * 2, this.o.maxBackoffMs ?? 2_000);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `deliver` for every payload, `rate` new ones a second, without waiting for earlier ones. */
export async function postAtRate(payloads: readonly string[], rate: number, deliver: (p: string) => Promise<void>): Promise<void> {
  const started = Date.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < payloads.length; i++) {
    const due = started + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    pending.push(deliver(payloads[i]!));
  }
  await Promise.all(pending);
}
