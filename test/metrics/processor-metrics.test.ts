// `npm start` (webhook, worker, mailer and sweep in one process) on real services, driven through a
// known sequence; its /metrics must then count each thing exactly once.
import { Writable } from 'node:stream';
import pino from 'pino';
import { start, type Running } from '../../src/run/start';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { postWebhook } from '../support/processor';
import { depth, sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, sign, TEST_SECRET, uid } from '../support/stripe-events';
import { thinEvent } from '../support/thin-events';
import { waitFor } from '../support/wait';
import { resentAs, type StripeEvent } from '../integration/helpers';
import { scrape, Scrape } from './exposition';
import { startPickySmtp } from './picky-smtp';

const METRICS_TOKEN = 'pr0cess-metrics-token_0123456789abcdef';
const DAY = 86_400;

let db: TestDatabase;
let sqs: TestSqs;
let smtp: Awaited<ReturnType<typeof startPickySmtp>>;
let running: Running;
let baseUrl: string;
const logLines: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  // One receive only: a message that fails goes to the DLQ at its next receive, so it is counted once.
  sqs = await startTestSqs({ maxReceiveCount: 1, visibilityTimeoutSeconds: 2 });
  smtp = await startPickySmtp();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  running = await start(
    ['webhook', 'worker', 'mailer'],
    {
      DATABASE_URL: db.url,
      SQS_QUEUE_URL: sqs.queueUrl,
      SQS_DLQ_URL: sqs.dlqUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_REGION: 'us-east-1',
      SQS_WAIT_TIME_SECONDS: '1',
      SQS_VISIBILITY_TIMEOUT_SECONDS: '2',
      SQS_MAX_RECEIVE_COUNT: '1',
      STRIPE_WEBHOOK_SECRET: TEST_SECRET,
      WEBHOOK_MAX_BODY_BYTES: String(64 * 1024),
      HOST: '127.0.0.1',
      PORT: '0',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Acme Billing <billing@acme.test>',
      MAIL_MAX_ATTEMPTS: '2',
      MAIL_RETRY_MAX_BACKOFF_SECONDS: '1',
      MAIL_POLL_INTERVAL_MS: '100',
      NOTICE_KINDS: 'invoice_issued',
      OVERDUE_SWEEP_INTERVAL_SECONDS: '86400',
      METRICS_TOKEN,
      LOG_LEVEL: 'debug',
    },
    { quiet: true, logger: pino({ level: 'debug' }, sink) },
  );
  baseUrl = new URL(running.url!).origin;
});

afterAll(async () => {
  await running?.stop();
  await smtp?.close();
  await sqs?.stop();
  await db?.drop();
});

/** A send_invoice invoice's first two events, created 5 s ago, with the customer's address on it (or none). */
function issued(email: string | null): { created: StripeEvent; finalized: StripeEvent; id: string } {
  const id = uid('in');
  const now = Math.floor(Date.now() / 1000) - 5;
  const common = { id, customer: uid('cus'), customer_email: email, collection_method: 'send_invoice', due_date: now + 14 * DAY, currency: 'usd', amount_due: 4200, total: 4200, amount_remaining: 4200, amount_paid: 0, metadata: {} };
  const none = { finalized_at: null, paid_at: null, voided_at: null, marked_uncollectible_at: null };
  return {
    id,
    created: event('invoice.created', invoice({ ...common, status: 'draft', number: null, status_transitions: none }), { created: now }),
    finalized: event('invoice.finalized', invoice({ ...common, status: 'open', number: `INV-${id.slice(-6)}`, status_transitions: { ...none, finalized_at: now + 1 } }), { created: now + 1 }),
  };
}

const post = (e: StripeEvent | string, secret = TEST_SECRET) => {
  const payload = typeof e === 'string' ? e : JSON.stringify(e);
  return postWebhook(baseUrl, payload, sign(payload, secret));
};

const processed = async (ids: string[]) => {
  const [r] = await db.ds.query(`SELECT count(*)::int AS n FROM stripe_events WHERE id = ANY($1::text[]) AND processed_at IS NOT NULL`, [ids]);
  return r.n === ids.length;
};
const queueDrained = async () => (await depth(sqs.client, sqs.queueUrl)) === 0;

it('counts each webhook, event, notice and sweep of a known sequence exactly once', async () => {
  const ok = issued(`ok-${uid('c')}@example.com`);
  const greylisted = issued(`greylisted-${uid('c')}@example.com`);
  const nobody = issued(null);
  const invoices = [ok, greylisted, nobody];

  // Created before finalized, each step applied before the next, so each event's outcome is known.
  for (const r of await Promise.all(invoices.map((i) => post(i.created)))) expect(r.status).toBe(200);
  await waitFor('the created events', () => processed(invoices.map((i) => i.created['id'] as string)));
  for (const r of await Promise.all(invoices.map((i) => post(i.finalized)))) expect(r.status).toBe(200);
  await waitFor('the finalized events', () => processed(invoices.map((i) => i.finalized['id'] as string)));

  // Stripe's two kinds of duplicate: the same event again, and the same change as a second event.
  expect((await post(ok.finalized)).status).toBe(200);
  await waitFor('the redelivery', queueDrained);
  // Dated a second before the original, so it sorts below the row's event and changes nothing (of
  // two snapshots in one second, the later event id would win and be written).
  const sameChange: StripeEvent = { ...resentAs(ok.finalized), created: (ok.finalized['created'] as number) - 1 };
  expect((await post(sameChange)).status).toBe(200);
  await waitFor('the same change under a new id', () => processed([sameChange['id'] as string]));
  await waitFor('the queue to drain', queueDrained);

  // A handled type whose object cannot be read is queued, then fails for good; so does a message
  // that is not even JSON (sent to the queue by hand). Each ends in the DLQ after one receive.
  expect((await post(event('invoice.finalized', { object: 'invoice', status: 'open' }))).status).toBe(200);
  await sendRaw(sqs.client, sqs.queueUrl, '{"id": "evt_cut_short", "type": "invoice.paid", "data": {');
  await waitFor('both failures in the DLQ', async () => (await depth(sqs.client, sqs.dlqUrl)) === 2 && queueDrained(), 30_000, 200);

  // Refused and ignored at the door.
  expect((await post(event('product.created', { id: uid('prod'), object: 'product' }))).status).toBe(200);
  expect((await post(issued(null).finalized, 'whsec_someone_elses_secret_0123456789')).status).toBe(400);
  expect((await post(thinEvent('v1.invoice.finalized', uid('in')))).status).toBe(400);
  const huge = event('invoice.updated', invoice({ id: uid('in'), metadata: { padding: 'x'.repeat(70 * 1024) } }));
  expect((await post(huge)).status).toBe(413);

  // The greylisted notice is tried twice (MAIL_MAX_ATTEMPTS), the one without an address is skipped.
  await waitFor(
    'every notice settled',
    async () => {
      const rows: Array<{ status: string }> = await db.ds.query(`SELECT status FROM email_notices WHERE stripe_invoice_id = ANY($1::text[])`, [invoices.map((i) => i.id)]);
      return rows.length === 3 && rows.every((r) => r.status !== 'pending');
    },
    30_000,
    200,
  );

  // The first scrape: the queue's depth is sampled now, after everything above settled.
  const s = await scrape(running.metricsUrl, METRICS_TOKEN);
  expect(s.nonZero('billing_webhook_requests_total', ['outcome'])).toEqual({ enqueued: 9, ignored: 1, rejected: 2, too_large: 1 });
  expect(s.value('billing_webhook_requests_total', { outcome: 'queue_unavailable' })).toBe(0);
  expect(s.value('billing_webhook_duration_seconds_count')).toBe(13);

  expect(s.nonZero('billing_events_applied_total', ['object', 'outcome'])).toEqual({
    'invoice/applied': 6,
    'invoice/unchanged': 1,
    'invoice/duplicate': 1,
    'invoice/malformed': 1,
    'unknown/malformed': 1,
  });
  expect(s.select('billing_events_applied_total')).toHaveLength(40);
  // Lag for the 7 events this run applied; they were created seconds ago.
  expect(s.value('billing_event_lag_seconds_count')).toBe(7);
  expect(s.value('billing_event_lag_seconds_bucket', { le: '60' })).toBe(7);

  expect(s.nonZero('billing_notices_total', ['kind', 'outcome'])).toEqual({
    'invoice_issued/sent': 1,
    'invoice_issued/retried': 1,
    'invoice_issued/failed': 1,
    'invoice_issued/skipped': 1,
  });
  expect(smtp.accepted).toEqual([expect.stringMatching(/^ok-/)]);

  expect(s.value('billing_sweep_runs_total')).toBe(1);
  expect(s.value('billing_queue_messages', { queue: 'events' })).toBe(0);
  expect(s.value('billing_queue_messages', { queue: 'dlq' })).toBe(2);
  expect(s.value('billing_outbox_oldest_pending_seconds')).toBe(0);
  expect(s.has('process_resident_memory_bytes')).toBe(true);
}, 120_000);

describe('METRICS_TOKEN on the processor', () => {
  it('answers 401 with the challenge without the token or with a wrong one', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: `Bearer ${METRICS_TOKEN.replace(/0/g, '1')}` }, { authorization: 'Bearer ' }];
    for (const headers of attempts) {
      const res = await fetch(running.metricsUrl, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await res.text()).not.toContain('billing_');
    }
  });

  it('serves the metrics with the token, and keeps the health checks open', async () => {
    expect(await scrape(running.metricsUrl, METRICS_TOKEN)).toBeInstanceOf(Scrape);
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
  });

  it('never writes the token to the log, whatever was asked', async () => {
    await fetch(running.metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
    expect(logLines.length).toBeGreaterThan(20);
    expect(logLines.filter((l) => l.includes(METRICS_TOKEN))).toEqual([]);
  });
});
