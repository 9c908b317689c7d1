import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createSqsClient } from '../../src/queue/sqs-client';
import { findEmbeddedSqs } from '../../src/embedded/embedded-sqs-registry';
import { withFields } from '../notices/harness';
import { eventId } from '../integration/helpers';
import { depth } from '../support/sqs';
import { paidLifecycle } from '../support/stripe-events';
import { startBilling, type BillingProcess } from './support/billing-process';
import { startMailServer, type MailServer } from './support/mail-server';
import { Figures, runDir, scaled, secrets } from './support/run';
import { StripePoster } from './support/stripe-poster';
import { baseEnv, SMTP_USER, webhookPort } from './support/world';
import { jsonLines } from '../support/log-lines';
import { sleep, waitFor } from '../support/wait';

const DURATION_MS = scaled(300_000, 40_000);
const WARMUP_MS = Math.round(DURATION_MS * 0.2);
// RSS rises and falls with the garbage collector's cycle (about two minutes at this rate, and a
// quarter of the RSS: the heap grows until a compacting collection gives pages back). A leak
// lifts the lowest point of the cycle, so growth is judged between the lowest RSS of two windows
// of 90 s, each longer than a cycle: right after warm-up, and at the end of the load.
const WINDOW_MS = Math.min(90_000, Math.round(DURATION_MS * 0.3));
const RATE = 200;

let dev: BillingProcess | undefined;
let mail: MailServer;
let db: Client | undefined;
let sampler: NodeJS.Timeout | undefined;

afterAll(async () => {
  clearInterval(sampler);
  await dev?.stop();
  await db?.end();
  await mail?.close();
});

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** The embedded PostgreSQL that `billing dev` started under DATA_DIR, read the way it left it. */
function embeddedDatabaseUrl(dataDir: string): string {
  const password = fs.readFileSync(path.join(dataDir, 'postgres.password'), 'utf8');
  const port = fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3];
  return `postgres://billing:${encodeURIComponent(password)}@127.0.0.1:${port}/billing`;
}

it(`runs ${DURATION_MS / 1000} s at ${RATE} events/s through billing dev with no error, flat memory and an empty queue after`, async () => {
  const figures = new Figures(`soak: ${RATE} events/s through billing dev`);
  mail = await startMailServer(SMTP_USER, secrets().smtpPassword);
  const dataDir = fs.mkdtempSync(path.join(runDir(), 'soak-'));
  fs.chmodSync(dataDir, 0o755);
  const port = await webhookPort();
  // `npm start` as shipped: embedded PostgreSQL and queue; only the secrets and the mail relay are ours.
  dev = await startBilling('dev', { ...baseEnv(dataDir), PORT: String(port), SMTP_URL: mail.url, LOG_LEVEL: 'debug', MAIL_POLL_INTERVAL_MS: '1000', MAIL_RETRY_MAX_BACKOFF_SECONDS: '300' }, 'soak-dev');
  // Kept with the run's secrets: the secrets check looks for it in every log too.
  fs.writeFileSync(path.join(runDir(), 'embedded-database-password'), fs.readFileSync(path.join(dataDir, 'postgres.password')));
  const registered = await findEmbeddedSqs(dataDir);
  if (!registered) throw new Error('billing dev registered no embedded queue');
  const sqs = createSqsClient({ region: 'us-east-1', endpoint: registered.endpoint });
  db = new Client({ connectionString: embeddedDatabaseUrl(dataDir) });
  // The server goes away with billing dev at the end; that is not an error of the test.
  db.on('error', () => undefined);
  await db.connect();

  const poster = new StripePoster(() => `http://127.0.0.1:${port}`, secrets().webhook, { backoffMs: 500 });
  const samples: Array<{ t: number; rss: number; depth: number }> = [];
  const started = Date.now();
  sampler = setInterval(() => {
    void depth(sqs, registered.queueUrl)
      .catch(() => -1)
      .then((d) => samples.push({ t: Date.now() - started, rss: dev!.rssMiB(), depth: d }));
  }, 1000);

  // Whole lifecycles in order, one event every 5 ms; one invoice in ten has an email address, so
  // the mailer works steadily without turning the soak into an SMTP benchmark.
  const total = Math.round((DURATION_MS / 1000) * RATE);
  const ids: string[] = [];
  const pending = new Set<Promise<void>>();
  let invoice = 0;
  let queue: string[] = [];
  for (let i = 0; i < total; i++) {
    if (queue.length === 0) {
      const id = `in_soak_${(invoice++).toString().padStart(6, '0')}`;
      const events = withFields(paidLifecycle(id, Math.floor(Date.now() / 1000) - 10, { customer: `cus_soak_${invoice % 500}` }), {
        customer_email: invoice % 10 === 0 ? `ap+${invoice}@customer.test` : null,
      });
      queue = events.map((e) => JSON.stringify(e));
    }
    const due = started + (i * 1000) / RATE;
    if (due > Date.now()) await sleep(due - Date.now());
    const payload = queue.shift()!;
    ids.push(eventId(JSON.parse(payload) as Record<string, unknown>));
    const p = poster.deliver(payload);
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }
  await Promise.all(pending);
  const loadEndedAt = Date.now() - started;
  poster.close();
  await waitFor('the queue to drain', async () => (await depth(sqs, registered.queueUrl)) === 0, 180_000, 500);
  const drainedAt = Date.now() - started;
  await waitFor('every event processed', async () => {
    const { rows } = await db!.query(`SELECT count(*)::int AS n FROM stripe_events WHERE processed_at IS NOT NULL`);
    return rows[0].n === ids.length;
  }, 120_000, 500);
  clearInterval(sampler);
  const processedAt = Date.now() - started;
  await waitFor('the due notices to go out', async () => {
    const { rows } = await db!.query(`SELECT count(*)::int AS n FROM email_notices WHERE status = 'pending' AND next_attempt_at <= now()`);
    return rows[0].n === 0;
  }, 300_000, 1000);
  const outboxAt = Date.now() - started;

  const dlq = await depth(sqs, registered.dlqUrl);
  sqs.destroy();
  const { rows: notices } = await db.query(`SELECT status, count(*)::int AS n FROM email_notices GROUP BY status ORDER BY status`);
  await db.end();
  db = undefined;
  await dev.stop();
  const lines = jsonLines(dev.readLog());
  const errors = lines.filter((l) => Number(l['level']) >= 50);
  const warnings = lines.filter((l) => Number(l['level']) === 40);
  const rssIn = (from: number, to: number) => samples.filter((s) => s.t >= from && s.t < to && s.rss > 0).map((s) => s.rss);
  const rssAt = (from: number, to: number) => median(rssIn(from, to));
  const floor = (from: number, to: number) => Math.min(...rssIn(from, to));
  const baseline = floor(WARMUP_MS, WARMUP_MS + WINDOW_MS);
  const end = floor(loadEndedAt - WINDOW_MS, loadEndedAt);
  const growth = baseline > 0 ? end / baseline - 1 : Infinity;
  const medianGrowth = rssAt(loadEndedAt - WINDOW_MS, loadEndedAt) / rssAt(WARMUP_MS, WARMUP_MS + WINDOW_MS) - 1;
  const answers = poster.stats.byStatus;
  const latencies = poster.stats.answers.map((a) => a.ms).sort((a, b) => a - b);

  figures.set('duration, rate', `${(loadEndedAt / 1000).toFixed(0)} s, ${RATE} events/s`);
  figures.set('events posted, invoices', `${ids.length}, ${invoice}`);
  figures.set('answers by status', JSON.stringify(answers));
  figures.set('webhook latency p50 / p99 / max', `${latencies[Math.floor(latencies.length * 0.5)]} / ${latencies[Math.floor(latencies.length * 0.99)]} / ${latencies[latencies.length - 1]} ms`);
  const window = `${Math.round(WINDOW_MS / 1000)} s`;
  figures.set(`RSS floor after warm-up (lowest of ${window})`, `${baseline.toFixed(0)} MiB`);
  figures.set(`RSS floor at the end of the load (lowest of ${window})`, `${end.toFixed(0)} MiB`);
  figures.set('RSS growth after warm-up (floor to floor; judged)', `${(growth * 100).toFixed(1)} %`);
  figures.set(`RSS growth, median of ${window} to median of ${window}`, `${(medianGrowth * 100).toFixed(1)} %`);
  // The shape matters more than two points: a plateau is warm-up, a steady slope is a leak.
  const tenths = Array.from({ length: 10 }, (_, i) => rssAt((loadEndedAt * i) / 10, (loadEndedAt * (i + 1)) / 10).toFixed(0));
  figures.set('RSS by tenth of the load (MiB)', tenths.join(' '));
  fs.writeFileSync(path.join(runDir(), 'soak-samples.csv'), ['t_ms,rss_mib,queue_depth', ...samples.map((x) => `${x.t},${x.rss.toFixed(1)},${x.depth}`)].join('\n'));
  figures.set('RSS peak', `${Math.max(...samples.map((s) => s.rss)).toFixed(0)} MiB`);
  figures.set('queue depth max during the load', Math.max(...samples.map((s) => s.depth)));
  figures.set('queue back to zero after the load', `${((drainedAt - loadEndedAt) / 1000).toFixed(1)} s`);
  figures.set('every event processed after the load', `${((processedAt - loadEndedAt) / 1000).toFixed(1)} s`);
  figures.set('outbox caught up after the load', `${((outboxAt - loadEndedAt) / 1000).toFixed(1)} s`);
  figures.set('messages in the DLQ', dlq);
  figures.set('error / warn log lines', `${errors.length} / ${warnings.length}`);
  figures.set('notices by status', JSON.stringify(Object.fromEntries(notices.map((r: { status: string; n: number }) => [r.status, r.n]))));
  figures.set('emails delivered, twice', `${mail.messages.length}, ${mail.duplicates().size}`);
  figures.write();

  expect(errors.slice(0, 5)).toEqual([]);
  expect(Object.keys(answers)).toEqual(['200']);
  // A development run (FAULTS_SCALE) shorter than two minutes is still warming up: reported, not judged.
  if (loadEndedAt >= 120_000) expect(growth).toBeLessThan(0.1);
  expect(dlq).toBe(0);
  expect(mail.duplicates().size).toBe(0);
});
