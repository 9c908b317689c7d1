// billing serve, billing worker and billing mailer as separate processes (separate start() calls on
// the same services): each serves /metrics, /healthz and /readyz on its own port, and counts its own work.
import pino from 'pino';
import { start, type Role, type Running } from '../../src/run/start';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { postWebhook } from '../support/processor';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, sign, TEST_SECRET, uid } from '../support/stripe-events';
import { waitFor } from '../support/wait';
import { scrape } from './exposition';

const METRICS_TOKEN = 'standalone-metrics-token-0123456789';

let db: TestDatabase;
let sqs: TestSqs;
let smtp: SmtpSink;
const running: Running[] = [];

const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  DATABASE_URL: db.url,
  SQS_QUEUE_URL: sqs.queueUrl,
  SQS_DLQ_URL: sqs.dlqUrl,
  AWS_ENDPOINT_URL_SQS: sqs.endpoint,
  AWS_REGION: 'us-east-1',
  SQS_WAIT_TIME_SECONDS: '1',
  STRIPE_WEBHOOK_SECRET: TEST_SECRET,
  HOST: '127.0.0.1',
  PORT: '0',
  SMTP_URL: smtp.url,
  MAIL_FROM: 'Acme Billing <billing@acme.test>',
  MAIL_POLL_INTERVAL_MS: '100',
  NOTICE_KINDS: 'invoice_issued',
  OVERDUE_SWEEP_INTERVAL_SECONDS: '86400',
  METRICS_TOKEN,
  ...extra,
});

const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
async function startRole(role: Role, extra: Record<string, string> = {}, quiet = true): Promise<Running> {
  const r = await start([role], env(extra), { quiet, logger });
  running.push(r);
  return r;
}

beforeAll(async () => {
  db = await createTestDatabase(5);
  sqs = await startTestSqs();
  smtp = await startSmtpSink();
});
afterAll(async () => {
  for (const r of running.reverse()) await r.stop();
  await smtp?.close();
  await sqs?.stop();
  await db?.drop();
});

it('each process serves its own /metrics with what it does, and counts its own work', async () => {
  const serve = await startRole('webhook');
  const worker = await startRole('worker');
  const mailer = await startRole('mailer');
  const ports = [serve, worker, mailer].map((r) => new URL(r.metricsUrl).port);
  expect(new Set(ports).size).toBe(3);
  expect(serve.url).toBeDefined();
  expect(worker.url).toBeUndefined();
  expect(mailer.url).toBeUndefined();

  for (const r of [worker, mailer]) {
    const origin = new URL(r.metricsUrl).origin;
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${origin}/readyz`)).json()).toEqual({ status: 'ready' });
    // Status only: a webhook posted here is not taken.
    const payload = JSON.stringify(event('invoice.finalized', invoice({ id: uid('in') })));
    expect((await postWebhook(origin, payload, sign(payload, TEST_SECRET))).status).toBe(404);
    expect((await fetch(r.metricsUrl)).status).toBe(401);
  }

  const id = uid('in');
  const now = Math.floor(Date.now() / 1000);
  const open = invoice({ id, customer: uid('cus'), customer_email: `payer-${uid('c')}@example.com`, status: 'open', collection_method: 'send_invoice', due_date: now + 14 * 86_400, status_transitions: { finalized_at: now, paid_at: null, voided_at: null, marked_uncollectible_at: null } });
  const payload = JSON.stringify(event('invoice.finalized', open, { created: now }));
  expect((await postWebhook(new URL(serve.url!).origin, payload, sign(payload, TEST_SECRET))).status).toBe(200);
  await waitFor('the notice to be sent', async () => smtp.messages.length === 1 || undefined, 30_000);

  const s = await scrape(serve.metricsUrl, METRICS_TOKEN);
  expect(s.nonZero('billing_webhook_requests_total', ['outcome'])).toEqual({ enqueued: 1 });
  expect(s.select('billing_queue_messages')).toHaveLength(2);
  for (const absent of ['billing_events_applied_total', 'billing_notices_total', 'billing_sweep_runs_total', 'billing_outbox_oldest_pending_seconds']) expect([absent, s.has(absent)]).toEqual([absent, false]);

  const w = await scrape(worker.metricsUrl, METRICS_TOKEN);
  expect(w.nonZero('billing_events_applied_total', ['object', 'outcome'])).toEqual({ 'invoice/applied': 1 });
  expect(w.value('billing_event_lag_seconds_count')).toBe(1);
  expect(w.value('billing_sweep_runs_total')).toBe(1);
  expect(w.value('billing_queue_messages', { queue: 'events' })).toBe(0);
  expect(w.value('billing_queue_messages', { queue: 'dlq' })).toBe(0);
  // The worker shows the outbox too, so its alert still works while no mailer runs.
  expect(w.value('billing_outbox_oldest_pending_seconds')).toBe(0);
  for (const absent of ['billing_webhook_requests_total', 'billing_notices_total']) expect([absent, w.has(absent)]).toEqual([absent, false]);

  const m = await scrape(mailer.metricsUrl, METRICS_TOKEN);
  expect(m.nonZero('billing_notices_total', ['kind', 'outcome'])).toEqual({ 'invoice_issued/sent': 1 });
  expect(m.value('billing_outbox_oldest_pending_seconds')).toBe(0);
  for (const absent of ['billing_webhook_requests_total', 'billing_events_applied_total', 'billing_sweep_runs_total', 'billing_queue_messages']) expect([absent, m.has(absent)]).toEqual([absent, false]);
}, 90_000);

it('prints where its metrics are in the banner, and only whether a token guards them', async () => {
  const out: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  let mailer: Running;
  try {
    mailer = await startRole('mailer', {}, false);
  } finally {
    write.mockRestore();
  }
  const text = out.join('');
  expect(text).toContain(`  metrics         ${mailer.metricsUrl}   (Authorization: Bearer $METRICS_TOKEN)`);
  expect(text).not.toContain(METRICS_TOKEN);
  await mailer.stop();
  running.splice(running.indexOf(mailer), 1);
});

it('refuses to start on a port another process holds, saying which variables to change', async () => {
  const taken = new URL(running[0]!.metricsUrl).port;
  const err = await start(['mailer'], env({ PORT: taken }), { quiet: true, logger }).then(
    (r) => {
      running.push(r);
      throw new Error('started');
    },
    (e: Error & { exitCode?: number }) => e,
  );
  expect(err.message).toBe(`cannot listen on 127.0.0.1:${taken} (EADDRINUSE): set HOST and PORT (PORT=0 picks a free port)`);
  expect(err.exitCode).toBe(2);
});
