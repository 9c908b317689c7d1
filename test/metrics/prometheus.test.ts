import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { deferNotice, oldestDueNoticeSeconds, recordNotices } from '../../src/db/notice-outbox';
import { PrometheusMetrics, QUEUE_SAMPLE_MS } from '../../src/metrics/prometheus';
import { createSqsClient } from '../../src/queue/sqs-client';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startTestSqs, type TestSqs } from '../support/sqs';
import { uid } from '../support/stripe-events';
import { Scrape } from './exposition';

const read = async (m: PrometheusMetrics) => new Scrape(await m.render());

describe('the registry of one process', () => {
  it('registers the series of the roles it runs, each label value at 0 from the first scrape', async () => {
    const s = await read(new PrometheusMetrics({ roles: { webhook: true, worker: true, mailer: true } }));
    expect(s.types.get('billing_webhook_requests_total')).toBe('counter');
    expect(s.types.get('billing_webhook_duration_seconds')).toBe('histogram');
    expect(s.types.get('billing_events_applied_total')).toBe('counter');
    expect(s.types.get('billing_event_lag_seconds')).toBe('histogram');
    expect(s.types.get('billing_notices_total')).toBe('counter');
    expect(s.types.get('billing_sweep_runs_total')).toBe('counter');
    expect(s.labelValues('billing_webhook_requests_total', 'outcome')).toEqual(['enqueued', 'ignored', 'queue_unavailable', 'rejected', 'too_large']);
    expect(s.select('billing_webhook_requests_total').every((x) => x.value === 0)).toBe(true);
    expect(s.select('billing_events_applied_total')).toHaveLength(8 * 5);
    expect(s.labelValues('billing_events_applied_total', 'object')).toEqual(['charge', 'credit_note', 'customer', 'health_alert', 'invoice', 'invoice_payment', 'refund', 'unknown']);
    expect(s.labelValues('billing_events_applied_total', 'outcome')).toEqual(['applied', 'duplicate', 'failed', 'malformed', 'unchanged']);
    expect(s.select('billing_notices_total')).toHaveLength(8 * 4);
    expect(s.labelValues('billing_notices_total', 'outcome')).toEqual(['failed', 'retried', 'sent', 'skipped']);
    expect(s.value('billing_sweep_runs_total')).toBe(0);
    expect(s.value('billing_event_lag_seconds_count')).toBe(0);
    // Node's own, from collectDefaultMetrics.
    expect(s.has('process_cpu_user_seconds_total')).toBe(true);
    expect(s.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(s.has('nodejs_heap_size_used_bytes')).toBe(true);
  });

  it('shows only what a process does: billing serve has no events, notices or sweeps to count', async () => {
    const serve = await read(new PrometheusMetrics({ roles: { webhook: true } }));
    expect(serve.has('billing_webhook_requests_total')).toBe(true);
    for (const name of ['billing_events_applied_total', 'billing_event_lag_seconds', 'billing_notices_total', 'billing_sweep_runs_total', 'billing_queue_messages', 'billing_outbox_oldest_pending_seconds']) {
      expect([name, serve.has(name)]).toEqual([name, false]);
    }
    const mailer = await read(new PrometheusMetrics({ roles: { mailer: true } }));
    expect(mailer.has('billing_notices_total')).toBe(true);
    expect(mailer.has('billing_webhook_requests_total')).toBe(false);
    expect(mailer.has('billing_sweep_runs_total')).toBe(false);
  });

  it('counts into its own registry: two processes in one Node process do not share counts', async () => {
    const a = new PrometheusMetrics({ roles: { webhook: true, worker: true, mailer: true } });
    const b = new PrometheusMetrics({ roles: { webhook: true, worker: true, mailer: true } });
    a.webhook('enqueued', 0.02);
    a.webhook('enqueued', 0.3);
    a.webhook('rejected', 0.001);
    a.eventApplied('invoice', 'applied', 4.5);
    a.eventApplied('charge', 'duplicate');
    a.notice('invoice_paid', 'sent');
    a.sweepRun();
    const s = await read(a);
    expect(s.nonZero('billing_webhook_requests_total', ['outcome'])).toEqual({ enqueued: 2, rejected: 1 });
    expect(s.value('billing_webhook_duration_seconds_count')).toBe(3);
    expect(s.value('billing_webhook_duration_seconds_sum')).toBeCloseTo(0.321, 6);
    expect(s.value('billing_webhook_duration_seconds_bucket', { le: '0.025' })).toBe(2);
    expect(s.value('billing_webhook_duration_seconds_bucket', { le: '0.5' })).toBe(3);
    expect(s.nonZero('billing_events_applied_total', ['object', 'outcome'])).toEqual({ 'invoice/applied': 1, 'charge/duplicate': 1 });
    expect(s.value('billing_event_lag_seconds_count')).toBe(1);
    expect(s.value('billing_event_lag_seconds_bucket', { le: '5' })).toBe(1);
    expect(s.value('billing_event_lag_seconds_bucket', { le: '2' })).toBe(0);
    expect(s.nonZero('billing_notices_total', ['kind', 'outcome'])).toEqual({ 'invoice_paid/sent': 1 });
    expect(s.value('billing_sweep_runs_total')).toBe(1);
    const other = await read(b);
    expect(other.nonZero('billing_webhook_requests_total', ['outcome'])).toEqual({});
    expect(other.value('billing_sweep_runs_total')).toBe(0);
  });
});

describe('billing_queue_messages', () => {
  let sqs: TestSqs;
  beforeAll(async () => {
    sqs = await startTestSqs();
  });
  afterAll(async () => {
    await sqs?.stop();
  });

  /** A client of the product's kind that counts the GetQueueAttributes calls it really sends. */
  function countingClient() {
    const client = createSqsClient({ region: 'us-east-1', endpoint: sqs.endpoint });
    const calls = { n: 0 };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetQueueAttributesCommand') calls.n++;
        return next(args);
      },
      { step: 'initialize', name: 'countGetQueueAttributes' },
    );
    return { client, calls };
  }

  const send = (url: string, n: number) => Promise.all(Array.from({ length: n }, () => sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{}' }))));

  it('shows both queues, and asks SQS at most once per queue every 15 s however often it is scraped', async () => {
    await send(sqs.queueUrl, 3);
    await send(sqs.dlqUrl, 1);
    const { client, calls } = countingClient();
    let now = 1_000_000;
    const m = new PrometheusMetrics({ roles: { worker: true }, queue: { sqs: client, urls: { events: sqs.queueUrl, dlq: sqs.dlqUrl } }, nowMs: () => now });
    try {
      // Nothing is asked before the first scrape.
      expect(calls.n).toBe(0);
      // Two scrapes at once share one read.
      const [first, second] = await Promise.all([read(m), read(m)]);
      for (const s of [first, second]) {
        expect(s.value('billing_queue_messages', { queue: 'events' })).toBe(3);
        expect(s.value('billing_queue_messages', { queue: 'dlq' })).toBe(1);
      }
      expect(calls.n).toBe(2);

      await send(sqs.dlqUrl, 1);
      for (const later of [1_000, 5_000, QUEUE_SAMPLE_MS - 1]) {
        now = 1_000_000 + later;
        const s = await read(m);
        expect(s.value('billing_queue_messages', { queue: 'dlq' })).toBe(1);
      }
      expect(calls.n).toBe(2);

      now = 1_000_000 + QUEUE_SAMPLE_MS;
      const fresh = await read(m);
      expect(fresh.value('billing_queue_messages', { queue: 'dlq' })).toBe(2);
      expect(fresh.value('billing_queue_messages', { queue: 'events' })).toBe(3);
      expect(calls.n).toBe(4);
    } finally {
      client.destroy();
    }
  });

  it('shows NaN while the queue cannot be read, and asks no more often for it', async () => {
    const client = createSqsClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
    let now = 0;
    const warnings: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => void warnings.push(msg) } as unknown as import('pino').Logger;
    const m = new PrometheusMetrics({ roles: { worker: true }, queue: { sqs: client, urls: { events: 'http://127.0.0.1:9/000000000000/q', dlq: 'http://127.0.0.1:9/000000000000/d' } }, nowMs: () => now, logger });
    try {
      const s = await read(m);
      expect(s.value('billing_queue_messages', { queue: 'events' })).toBeNaN();
      expect(s.value('billing_queue_messages', { queue: 'dlq' })).toBeNaN();
      now += 1_000;
      await read(m);
      expect(warnings).toEqual(['cannot read the queue depth for /metrics']);
    } finally {
      client.destroy();
    }
  });
});

describe('billing_outbox_oldest_pending_seconds', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(2);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('is 0 with nothing due, then the age of the oldest notice due now; one waiting for a later time does not count', async () => {
    const now = Math.floor(Date.now() / 1000);
    const m = new PrometheusMetrics({ roles: { mailer: true }, outbox: db.ds, nowMs: () => now * 1000 });
    expect((await read(m)).value('billing_outbox_oldest_pending_seconds')).toBe(0);

    // Queued 20 minutes ago but deferred to later (a receipt waiting, a retry's backoff): not due.
    const waiting = uid('in');
    await recordNotices(db.ds.manager, [{ stripeInvoiceId: waiting, kind: 'invoice_paid', sequence: 0, skip: null }], now - 1200);
    const [row] = await db.ds.query(`SELECT id FROM email_notices WHERE stripe_invoice_id = $1`, [waiting]);
    await deferNotice(db.ds.manager, row.id, now + 60);
    // Skipped when planned: never pending.
    await recordNotices(db.ds.manager, [{ stripeInvoiceId: uid('in'), kind: 'invoice_issued', sequence: 0, skip: 'stale' }], now - 3000);
    expect((await read(m)).value('billing_outbox_oldest_pending_seconds')).toBe(0);

    await recordNotices(db.ds.manager, [{ stripeInvoiceId: uid('in'), kind: 'invoice_issued', sequence: 0, skip: null }], now - 600);
    await recordNotices(db.ds.manager, [{ stripeInvoiceId: uid('in'), kind: 'overdue', sequence: 0, skip: null }], now - 30);
    expect((await read(m)).value('billing_outbox_oldest_pending_seconds')).toBe(600);
    expect(await oldestDueNoticeSeconds(db.ds.manager, now + 60)).toBe(1260);
  });
});
