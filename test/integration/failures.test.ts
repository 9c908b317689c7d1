import { applyEvent } from '../support/apply-event';
import { findInvoice } from '../../src/db/invoices';
import { sweepInvoices } from '../../src/sweep/invoice-sweep';
import { policyOf } from '../support/notice-policy';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { postWebhook, startProcessor } from '../support/processor';
import { depth, receiveBodies, sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, paidLifecycle, sign, TEST_SECRET, uid } from '../support/stripe-events';
import { TcpProxy, viaProxy } from '../support/tcp-proxy';
import { eventId, eventRows, mapLimit, postSigned, processedCount, type StripeEvent } from './helpers';
import { sleep, waitFor } from '../support/wait';

type Processor = Awaited<ReturnType<typeof startProcessor>>;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const portOf = (url: string) => Number(new URL(url).port);
const row = (id: string) => findInvoice(db.ds.manager, id);
const landed = (ids: string[]) => async () => (await processedCount(db.ds, ids)) === ids.length;

/** One open invoice's finalized event, a convenient "good" event that makes a row of its own. */
const goodEvent = (amount = 1000) => paidLifecycle(uid('in'), 1_700_000_000, { amount })[1]!;
const invoiceIdOf = (e: StripeEvent) => (e['data'] as { object: { id: string } }).object.id;

describe('queue unavailable', () => {
  let sqs: TestSqs;
  let proxy: TcpProxy;
  let processor: Processor;

  beforeAll(async () => {
    sqs = await startTestSqs();
    proxy = new TcpProxy('127.0.0.1', portOf(sqs.endpoint));
    await proxy.start();
    processor = await startProcessor({
      databaseUrl: db.url,
      queueUrl: viaProxy(sqs.queueUrl, proxy.port),
      dlqUrl: viaProxy(sqs.dlqUrl, proxy.port),
      endpoint: viaProxy(sqs.endpoint, proxy.port),
    });
  });

  afterAll(async () => {
    proxy?.restore();
    await processor?.stop();
    await proxy?.stop();
    await sqs?.stop();
  });

  it('answers 503 while the queue is down, enqueues nothing, and takes Stripe’s retry once it is back', async () => {
    const e = goodEvent(2500);
    const payload = JSON.stringify(e);

    proxy.cut();
    const refused = await postWebhook(processor.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(refused.status).toBe(503);
    // The test's own client bypasses the proxy; the worker cannot, so anything sent would still be here.
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
    expect(await eventRows(db.ds, [eventId(e)])).toEqual([]);

    proxy.restore();
    // Stripe's retry: the same bytes under a fresh signature.
    const retried = await postWebhook(processor.baseUrl, payload, sign(payload, TEST_SECRET));
    expect(retried).toEqual({ status: 200, body: { received: true } });

    await waitFor('the retried event', landed([eventId(e)]), 30_000);
    await waitFor('the queue to drain', async () => (await depth(sqs.client, sqs.queueUrl)) === 0, 20_000);
    expect(await eventRows(db.ds, [eventId(e)])).toEqual([{ id: eventId(e), processed: true, attempts: 1, last_error: null }]);
    expect(await row(invoiceIdOf(e))).toMatchObject({ status: 'open', amountCents: 2500 });
    expect(await depth(sqs.client, sqs.dlqUrl)).toBe(0);
  });
});

describe('database unavailable', () => {
  let sqs: TestSqs;
  let proxy: TcpProxy;
  let processor: Processor;

  beforeAll(async () => {
    // Receives that each spend a try: a worker polling through a 6 s outage without pausing
    // would push every queued event past 4 receives into the DLQ.
    sqs = await startTestSqs({ maxReceiveCount: 4, visibilityTimeoutSeconds: 1 });
    proxy = new TcpProxy('127.0.0.1', portOf(db.url));
    await proxy.start();
    processor = await startProcessor({
      databaseUrl: viaProxy(db.url, proxy.port),
      queueUrl: sqs.queueUrl,
      dlqUrl: sqs.dlqUrl,
      endpoint: sqs.endpoint,
      env: { SQS_VISIBILITY_TIMEOUT_SECONDS: '1' },
    });
  });

  afterAll(async () => {
    proxy?.restore();
    await processor?.stop();
    await proxy?.stop();
    await sqs?.stop();
  });

  it('keeps answering 200 during a 6 s outage, then lands every event once with nothing in the DLQ', async () => {
    const warmUp = goodEvent();
    expect((await postSigned(processor.baseUrl, warmUp)).status).toBe(200);
    await waitFor('the warm-up event', landed([eventId(warmUp)]));

    // Queued just before the cut, so some are likely mid-transaction when the connection drops.
    const before = Array.from({ length: 10 }, (_, i) => goodEvent(100 + i));
    await mapLimit(before, 10, (e) => sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(e)));

    proxy.cut();
    const cutAt = Date.now();
    const during = Array.from({ length: 10 }, (_, i) => goodEvent(200 + i));
    const answers = await mapLimit(during, 5, async (e) => {
      const t0 = Date.now();
      const res = await postSigned(processor.baseUrl, e);
      return { status: res.status, ms: Date.now() - t0 };
    });
    // The webhook needs only the queue; Stripe must not see the database outage at all.
    expect(answers.map((a) => a.status)).toEqual(during.map(() => 200));
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(2000);
    // All of those answers came well inside the outage, not after it.
    expect(Date.now() - cutAt).toBeLessThan(5000);
    // The outage is real for the worker: nothing posted during it has been merged.
    expect(await processedCount(db.ds, during.map(eventId))).toBe(0);

    // Time is the subject: the outage must outlast the 4 receives at a 1 s visibility timeout that a
    // worker receiving on through it would spend, so its length is fixed. What follows it is
    // checked on conditions: every event landed, the queue drained, the DLQ empty.
    await sleep(6000 - (Date.now() - cutAt));
    expect(await processedCount(db.ds, during.map(eventId))).toBe(0);
    proxy.restore();

    const all = [...before, ...during];
    const ids = all.map(eventId);
    // A dead-lettered event will never land, so stop waiting as soon as one shows up.
    const outcome = await waitFor(
      'every event after the outage',
      async () => ((await depth(sqs.client, sqs.dlqUrl)) > 0 ? 'dead-lettered' : (await landed(ids)()) && 'landed'),
      30_000,
    );
    expect(outcome).toBe('landed');
    await waitFor('the queue to drain', async () => (await depth(sqs.client, sqs.queueUrl)) === 0, 20_000);
    expect(await depth(sqs.client, sqs.dlqUrl)).toBe(0);

    const rows = await eventRows(db.ds, ids);
    expect(rows.filter((r) => !r.processed || r.last_error !== null)).toEqual([]);
    expect(rows).toHaveLength(ids.length);
    for (const e of all) {
      const amount = (e['data'] as { object: { amount_due: number } }).object.amount_due;
      expect(await row(invoiceIdOf(e))).toMatchObject({ status: 'open', amountCents: amount, lastEventId: eventId(e) });
    }
  }, 60_000);
});

describe('poison messages', () => {
  let sqs: TestSqs;
  let processor: Processor;

  beforeAll(async () => {
    sqs = await startTestSqs({ maxReceiveCount: 5, visibilityTimeoutSeconds: 1 });
    processor = await startProcessor({
      databaseUrl: db.url,
      queueUrl: sqs.queueUrl,
      dlqUrl: sqs.dlqUrl,
      endpoint: sqs.endpoint,
      roles: ['worker'],
      env: { SQS_VISIBILITY_TIMEOUT_SECONDS: '1' },
    });
  });

  afterAll(async () => {
    await processor?.stop();
    await sqs?.stop();
  });

  it('processes good events promptly past bodies that are not events, which end in the DLQ', async () => {
    const poison = ['{"id": "evt_truncated", "type": "invoice.paid", "data": {', JSON.stringify({ hello: 'world', amount_due: 1 })];
    const good = Array.from({ length: 6 }, (_, i) => goodEvent(300 + i));
    // Poison first and interleaved, so good events share batches with it.
    await sendRaw(sqs.client, sqs.queueUrl, poison[0]!);
    await sendRaw(sqs.client, sqs.queueUrl, poison[1]!);
    for (const [i, e] of good.entries()) {
      await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(e));
      if (i === 2) await sendRaw(sqs.client, sqs.queueUrl, poison[0]!.replace('truncated', 'truncated2'));
    }
    const poisonBodies = [...poison, poison[0]!.replace('truncated', 'truncated2')];

    // Well before the poison could have used up its receives.
    await waitFor('the good events', landed(good.map(eventId)), 5_000);

    await waitFor('the poison in the DLQ', async () => (await depth(sqs.client, sqs.dlqUrl)) === poisonBodies.length, 30_000, 250);
    await waitFor('the queue to drain', async () => (await depth(sqs.client, sqs.queueUrl)) === 0, 10_000);
    expect((await receiveBodies(sqs.client, sqs.dlqUrl)).sort()).toEqual([...poisonBodies].sort());
  }, 45_000);
});

describe('verified event with a malformed invoice', () => {
  let sqs: TestSqs;
  let processor: Processor;

  beforeAll(async () => {
    sqs = await startTestSqs({ maxReceiveCount: 5, visibilityTimeoutSeconds: 1 });
    processor = await startProcessor({
      databaseUrl: db.url,
      queueUrl: sqs.queueUrl,
      dlqUrl: sqs.dlqUrl,
      endpoint: sqs.endpoint,
      env: { SQS_VISIBILITY_TIMEOUT_SECONDS: '1' },
    });
  });

  afterAll(async () => {
    await processor?.stop();
    await sqs?.stop();
  });

  it('ends in the DLQ with the field named in the event log, and the consumer carries on', async () => {
    const badInvoiceId = uid('in');
    const bad = event('invoice.finalized', invoice({ id: badInvoiceId, status: 'open', amount_due: 'x', due_date: null }));
    expect(await postSigned(processor.baseUrl, bad)).toEqual({ status: 200, body: { received: true } });

    await waitFor('the malformed event in the DLQ', async () => (await depth(sqs.client, sqs.dlqUrl)) === 1, 30_000, 250);
    const [dead] = await receiveBodies(sqs.client, sqs.dlqUrl);
    expect(JSON.parse(dead!)).toMatchObject({ id: eventId(bad) });

    const [logged] = await eventRows(db.ds, [eventId(bad)]);
    expect(logged).toMatchObject({ id: eventId(bad), processed: false });
    expect(logged!.last_error).toMatch(/amount_due/);
    expect(await row(badInvoiceId)).toBeNull();

    const good = goodEvent(777);
    expect((await postSigned(processor.baseUrl, good)).status).toBe(200);
    await waitFor('a good event after the malformed one', landed([eventId(good)]), 10_000);
    expect(await row(invoiceIdOf(good))).toMatchObject({ status: 'open', amountCents: 777 });
  }, 45_000);
});

describe('oversized event', () => {
  let sqs: TestSqs;
  let processor: Processor;

  beforeAll(async () => {
    sqs = await startTestSqs();
    processor = await startProcessor({ databaseUrl: db.url, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, endpoint: sqs.endpoint });
  });

  afterAll(async () => {
    await processor?.stop();
    await sqs?.stop();
  });

  it('accepts an invoice event over 1 MiB (more than one queue message) and stores the right amounts', async () => {
    const id = uid('in');
    const base = invoice();
    const template = (base['lines'] as { data: Record<string, unknown>[] }).data[0]!;
    const items = Array.from({ length: 600 }, (_, i) => ({
      ...structuredClone(template),
      id: `il_${i}_${id}`,
      invoice: id,
      amount: 200 + i,
      description: `Line ${i}: ${'usage of the metered service, itemised for finance; '.repeat(40)}`,
    }));
    const amount = items.reduce((sum, item) => sum + (item.amount as number), 0);
    const big = event(
      'invoice.finalized',
      invoice({
        id,
        status: 'open',
        due_date: null,
        amount_due: amount,
        amount_paid: 0,
        amount_remaining: amount,
        subtotal: amount,
        total: amount,
        lines: { object: 'list', data: items, has_more: false, url: `/v1/invoices/${id}/lines` },
        status_transitions: { finalized_at: 1_700_000_001, paid_at: null, voided_at: null, marked_uncollectible_at: null },
      }),
      { created: 1_700_000_001 },
    );
    const bytes = Buffer.byteLength(JSON.stringify(big));
    expect(bytes).toBeGreaterThan(1024 * 1024);
    expect(bytes).toBeLessThan(2 * 1024 * 1024);

    expect(await postSigned(processor.baseUrl, big)).toEqual({ status: 200, body: { received: true } });
    await waitFor('the oversized event', landed([eventId(big)]), 20_000);
    expect(await row(id)).toMatchObject({
      status: 'open',
      amountCents: amount,
      totalCents: amount,
      amountPaidCents: 0,
      amountRemainingCents: amount,
      finalizedAt: 1_700_000_001,
      currency: 'usd',
    });
    expect(await depth(sqs.client, sqs.dlqUrl)).toBe(0);
  });
});

describe('overdue sweep', () => {
  // Its own database: a sweep flags every candidate in the database it runs on.
  let sweepDb: TestDatabase;
  beforeAll(async () => {
    sweepDb = await createTestDatabase(3);
  });
  afterAll(async () => {
    await sweepDb?.drop();
  });

  const apply = (e: StripeEvent, nowSeconds: number) => applyEvent(sweepDb.ds, JSON.stringify(e), { nowSeconds: () => nowSeconds });
  // No notice kinds: this is about the flag; the dunning the same sweep drives is tested with the outbox.
  const sweep = async (nowSeconds: number) => (await sweepInvoices(sweepDb.ds, nowSeconds, policyOf([]))).flagged;
  const overdueOf = async (id: string) => (await findInvoice(sweepDb.ds.manager, id))?.overdue;

  it('flags an open invoice once its due date has passed, never a paid one, and payment clears the flag', async () => {
    const now = Math.floor(Date.now() / 1000);
    const due = now - 86_400;
    const start = due - 10 * 86_400;
    const beforeDue = due - 3_600;

    const late = paidLifecycle(uid('in'), start, { dueDate: due, amount: 5000 });
    const paid = paidLifecycle(uid('in'), start, { dueDate: due, amount: 6000 });
    const notYetDue = paidLifecycle(uid('in'), start, { dueDate: now + 86_400, amount: 7000 });
    const lateId = invoiceIdOf(late[0]!);
    const paidId = invoiceIdOf(paid[0]!);
    const notYetDueId = invoiceIdOf(notYetDue[0]!);

    for (const e of late.slice(0, 4)) await apply(e, beforeDue);
    for (const e of paid) await apply(e, beforeDue);
    for (const e of notYetDue.slice(0, 4)) await apply(e, beforeDue);
    expect(await findInvoice(sweepDb.ds.manager, lateId)).toMatchObject({ status: 'open', overdue: false, dueDate: due, amountRemainingCents: 5000 });

    expect(await sweep(now)).toBe(1);
    expect(await overdueOf(lateId)).toBe(true);
    expect(await overdueOf(paidId)).toBe(false);
    expect(await overdueOf(notYetDueId)).toBe(false);
    expect(await sweep(now)).toBe(0);

    await apply(late[4]!, now);
    expect(await findInvoice(sweepDb.ds.manager, lateId)).toMatchObject({ status: 'paid', overdue: false, amountRemainingCents: 0 });
    expect(await sweep(now + 86_400)).toBe(0);
    expect(await overdueOf(lateId)).toBe(false);
    expect(await overdueOf(paidId)).toBe(false);
  });
});
