import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyEvent } from '../support/apply-event';
import { recordFailure } from '../../src/db/event-log';
import { billing, billingAsync } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { depth, sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { paidLifecycle, uid } from '../support/stripe-events';

let db: TestDatabase;
let sqs: TestSqs;
let dataDir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  sqs = await startTestSqs();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-recovery-cli-'));
});
afterAll(async () => {
  await sqs.stop();
  await db.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const dbEnv = () => ({ DATABASE_URL: db.url, DATA_DIR: dataDir });
const queueEnv = () => ({ ...dbEnv(), SQS_QUEUE_URL: sqs.queueUrl, SQS_DLQ_URL: sqs.dlqUrl, AWS_ENDPOINT_URL_SQS: sqs.endpoint, AWS_REGION: 'us-east-1' });

describe('bad arguments exit 2 with a clear message and change nothing', () => {
  it.each([
    [['replay', 'dlq', '--limit', '0'], /--limit: a whole number/],
    [['replay', 'events', '--since', 'yesterday'], /--since: not an ISO 8601 moment/],
    [['replay', 'events', '--since', '2026-11-02', '--until', '2026-11-01'], /--since is after --until/],
    [['replay', 'events', '--invoice', 'inv_1'], /--invoice: not a Stripe invoice id/],
    [['replay', 'events', '--type', 'charge.dispute.created'], /--type: not an event type this processor keeps/],
    [['replay', 'events', '--type', 'invoice.upcoming'], /--type: not an event type this processor keeps/],
    [['replay', 'events', '--type', 'invoice'], /--type: not an event type this processor keeps/],
    [['replay', 'events', '--force'], /--force also replays processed events: narrow it/],
    [['events', '--limit', 'ten'], /--limit: a whole number/],
    [['replay', 'dlq', '--frobnicate'], /unknown option/],
  ])('billing %j', (args, message) => {
    const r = billing(args, dbEnv());
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('replay events --type takes the event types of every kind, not only invoices’', () => {
    for (const type of ['charge.refunded', 'charge.refund.updated', 'invoice_payment.paid', 'credit_note.voided', 'customer.deleted', 'refund.created']) {
      const r = billing(['replay', 'events', '--type', type, '--dry-run', '--json'], dbEnv());
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ dryRun: true, events: [] });
    }
  });

  it('replay dlq without a queue says how to get one', () => {
    const r = billing(['replay', 'dlq'], dbEnv());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/SQS_QUEUE_URL/);
  });

  it('documents every command', () => {
    for (const cmd of [['replay', 'dlq'], ['replay', 'events'], ['events'], ['stats']]) {
      const r = billing([...cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/--json/);
    }
  });
});

describe('against the real queue and database', () => {
  const invoiceId = uid('in');
  const lifecycle = paidLifecycle(invoiceId, 1_700_000_000);

  beforeAll(async () => {
    await applyEvent(db.ds, JSON.stringify(lifecycle[0]));
    await applyEvent(db.ds, JSON.stringify(lifecycle[1]));
    const e = lifecycle[4]!;
    await recordFailure(db.ds.manager, { id: e['id'] as string, type: 'invoice.paid', stripeInvoiceId: invoiceId, created: e['created'] as number, livemode: false, apiVersion: null }, e, 'database timeout');
  });

  it('replay dlq --json moves the dead letters and says which', async () => {
    await sendRaw(sqs.client, sqs.dlqUrl, JSON.stringify(lifecycle[2]));
    await sendRaw(sqs.client, sqs.dlqUrl, JSON.stringify(lifecycle[3]));
    const dry = await billingAsync(['replay', 'dlq', '--dry-run', '--json'], queueEnv());
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({ moved: 0, dryRun: true, messages: [expect.anything(), expect.anything()] });
    const r = await billingAsync(['replay', 'dlq', '--json'], queueEnv());
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { moved: number; messages: Array<{ eventId: string }> };
    expect(out.moved).toBe(2);
    expect(out.messages.map((m) => m.eventId).sort()).toEqual([lifecycle[2]!['id'], lifecycle[3]!['id']].sort());
    expect(await depth(sqs.client, sqs.dlqUrl)).toBe(0);
  });

  it('replay events enqueues the failed event; a dry run lists it and sends nothing', async () => {
    const before = await depth(sqs.client, sqs.queueUrl);
    const dry = await billingAsync(['replay', 'events', '--failed', '--dry-run'], queueEnv());
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(new RegExp(`1 event\\(s\\) would be replayed[\\s\\S]*${lifecycle[4]!['id']}.*database timeout`));
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(before);
    const r = await billingAsync(['replay', 'events', '--invoice', invoiceId, '--json'], queueEnv());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ enqueued: 1, failed: 0, events: [{ id: lifecycle[4]!['id'] }] });
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(before + 1);
  });

  it('events lists newest first and narrows to failures', () => {
    const all = JSON.parse(billing(['events', '--invoice', invoiceId, '--json'], dbEnv()).out) as Array<{ id: string; processedAt: string | null }>;
    expect(all.map((e) => e.id)).toEqual([lifecycle[4]!['id'], lifecycle[1]!['id'], lifecycle[0]!['id']]);
    const failed = billing(['events', '--failed'], dbEnv());
    expect(failed.code).toBe(0);
    expect(failed.out).toMatch(/unprocessed \(1 attempt\)\s+database timeout/);
  });

  it('stats reports invoices, events, notices and both queues', async () => {
    const r = await billingAsync(['stats', '--json'], queueEnv());
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.invoices).toEqual([{ status: 'open', currency: 'usd', count: 1, amountRemainingCents: 1000, amountRemaining: 10, amountWrittenOffCents: 0, amountWrittenOff: 0 }]);
    expect(s.events).toMatchObject({ total: 3, unprocessed: 1, failed: 1, oldestUnprocessed: { id: lifecycle[4]!['id'] } });
    expect(s.queue.visible).toBeGreaterThanOrEqual(3);
    expect(s.dlq).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    const human = await billingAsync(['stats'], queueEnv());
    expect(human.out).toMatch(/open\s+usd\s+1\s+remaining 10\.00 USD/);
  });

  it('stats still reports the database when the configured queue is down, and exits 1', async () => {
    const r = await billingAsync(['stats', '--json'], { ...queueEnv(), AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9', SQS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/q', SQS_DLQ_URL: 'http://127.0.0.1:9/000000000000/d' });
    expect(r.code).toBe(1);
    const s = JSON.parse(r.out);
    expect(s.queueUnavailable).toMatch(/queue unreachable/);
    expect(s.events.total).toBe(3);
  });

  it('stats on a laptop without a running processor reports the queue as not running, exit 0', () => {
    const r = billing(['stats', '--json'], dbEnv());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).queueUnavailable).toMatch(/npm start/);
  });
});
