import { applyEvent } from '../support/apply-event';
import { noticeEffects } from '../../src/effects/notice-effects';
import { ALL_NOTICES } from '../support/notice-policy';
import { findInvoice } from '../../src/db/invoices';
import { recordFailure } from '../../src/db/event-log';
import { EventQueue } from '../../src/queue/event-queue';
import { replayEvents } from '../../src/recovery/replay-events';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startProcessor } from '../support/processor';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, paidLifecycle, uid } from '../support/stripe-events';
import { waitFor } from '../support/wait';

let db: TestDatabase;
let sqs: TestSqs;
let queue: EventQueue;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
beforeEach(async () => {
  sqs = await startTestSqs();
  queue = new EventQueue(sqs.client, sqs.queueUrl);
});
afterEach(async () => {
  await sqs.stop();
});

const NOW = 1_800_000_000;
const effects = noticeEffects(ALL_NOTICES);
const processed = (e: Record<string, unknown>) => applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => NOW, effects: { notices: effects } });

/** An event stored but never processed: the consumer failed on it with an error of ours. */
async function failed(e: Record<string, unknown>, error = 'database timeout'): Promise<void> {
  const object = (e['data'] as { object: { id: string } }).object;
  await recordFailure(db.ds.manager, { id: e['id'] as string, type: e['type'] as string, stripeInvoiceId: object.id, created: e['created'] as number, livemode: false, apiVersion: null }, e, error);
}

describe('selection', () => {
  const invoiceId = uid('in');
  const lifecycle = paidLifecycle(invoiceId, 1_700_000_000);
  const [created, finalized, paymentFailed, updated, paid] = lifecycle;
  const strayId = uid('in');
  const stray = event('invoice.finalized', invoice({ id: strayId, status: 'open' }), { created: 1_700_000_500 });

  beforeAll(async () => {
    await processed(created!);
    await processed(finalized!);
    await failed(paymentFailed!);
    await failed(updated!, 'connection terminated');
    await failed(stray);
    // Received and stored, then the process died before the merge committed: no error recorded.
    await db.ds.query(`INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, payload) VALUES ($1, $2, $3, to_timestamp($4), false, $5)`, [
      paid!['id'],
      paid!['type'],
      invoiceId,
      paid!['created'],
      JSON.stringify(paid),
    ]);
  });

  /** Oldest first; events of the same second in id order (hex ids sort alike in every collation). */
  const ordered = (...events: Array<Record<string, unknown> | undefined>) =>
    events.map((e) => e!).sort((a, b) => (a['created'] as number) - (b['created'] as number) || (String(a['id']) < String(b['id']) ? -1 : 1)).map((e) => e['id']);

  const ids = async (f: Parameters<typeof replayEvents>[2]) => (await replayEvents(db.ds, queue, f, { dryRun: true })).events.map((e) => e.id);

  it('by default takes what did not succeed, oldest first', async () => {
    expect(await ids({ invoiceId })).toEqual(ordered(paymentFailed, updated, paid));
  });

  it('narrows to failures, a type, a time range, an invoice', async () => {
    expect(await ids({ invoiceId, failed: true })).toEqual([paymentFailed!['id'], updated!['id']]);
    expect(await ids({ invoiceId, type: 'invoice.paid' })).toEqual([paid!['id']]);
    expect(await ids({ since: new Date(1_700_000_500_000) })).toEqual([stray['id']]);
    expect(await ids({ invoiceId, until: new Date(1_700_000_002_000) })).toEqual([paymentFailed!['id']]);
  });

  it('with force, includes the processed ones', async () => {
    expect(await ids({ invoiceId, force: true })).toEqual(ordered(...lifecycle.slice(0, 5)));
  });

  it('sends nothing on a dry run', async () => {
    const r = await replayEvents(db.ds, queue, { invoiceId }, { dryRun: true });
    expect(r).toMatchObject({ enqueued: 0, dryRun: true });
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it('enqueues the stored payloads, and the consumer finishes them', async () => {
    const r = await replayEvents(db.ds, queue, { invoiceId });
    expect(r).toMatchObject({ enqueued: 3, failed: 0 });
    const worker = await startProcessor({ databaseUrl: db.url, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, endpoint: sqs.endpoint, roles: ['worker'] });
    try {
      await waitFor('the replayed events processed', async () => (await replayEvents(db.ds, queue, { invoiceId }, { dryRun: true })).events.length === 0);
    } finally {
      await worker.stop();
    }
    expect(await findInvoice(db.ds.manager, invoiceId)).toMatchObject({ status: 'paid', amountRemainingCents: 0 });
  });

  it('reports the events the queue refused and carries on', async () => {
    await sqs.stop();
    const r = await replayEvents(db.ds, queue, { invoiceId: strayId });
    expect(r).toMatchObject({ enqueued: 0, failed: 1 });
    expect(r.errors[0]).toMatchObject({ id: stray['id'], error: expect.stringMatching(/queue did not take the event/) });
    sqs = await startTestSqs();
  });
});

describe('--force', () => {
  it('repairs a corrupted row by merging again, and sends no notice twice', async () => {
    const invoiceId = uid('in');
    const dueDate = NOW - 10 * 86_400;
    const lifecycle = paidLifecycle(invoiceId, NOW - 30 * 86_400, { dueDate });
    for (const e of lifecycle) await processed(e);
    const notices = async () => db.ds.query(`SELECT kind, sequence FROM email_notices WHERE stripe_invoice_id = $1 ORDER BY kind, sequence`, [invoiceId]);
    const before = await notices();
    expect(before.length).toBeGreaterThan(0);

    // A bug wrote a wrong status and amount; every event is already processed.
    await db.ds.query(`UPDATE invoices SET status = 'open', amount_paid_cents = 0, amount_remaining_cents = 1000 WHERE stripe_invoice_id = $1`, [invoiceId]);
    expect((await replayEvents(db.ds, queue, { invoiceId }, { dryRun: true })).events).toHaveLength(0);

    const r = await replayEvents(db.ds, queue, { invoiceId, force: true });
    expect(r.enqueued).toBe(lifecycle.length);
    const worker = await startProcessor({ databaseUrl: db.url, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, endpoint: sqs.endpoint, roles: ['worker'] });
    try {
      // Each forced event is merged again, which counts as a second attempt.
      await waitFor('every forced event merged again', async () => {
        const [row] = await db.ds.query(`SELECT count(*)::int AS n FROM stripe_events WHERE stripe_invoice_id = $1 AND attempts = 2`, [invoiceId]);
        return row.n === lifecycle.length;
      });
      await waitFor('the queue drained', async () => (await depth(sqs.client, sqs.queueUrl)) === 0);
    } finally {
      await worker.stop();
    }
    expect(await findInvoice(db.ds.manager, invoiceId)).toMatchObject({ status: 'paid', amountPaidCents: 1000, amountRemainingCents: 0 });
    expect(await notices()).toEqual(before);
  });
});
