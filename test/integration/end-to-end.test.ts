import { findInvoice } from '../../src/db/invoices';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startProcessor } from '../support/processor';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, paidLifecycle, uid } from '../support/stripe-events';
import {
  eventId,
  eventRows,
  mapLimit,
  postSigned,
  processedCount,
  resentAs,
  seededRandom,
  shuffle,
  testSeed,
  type StripeEvent,
} from './helpers';
import { expectedFinalRow } from '../support/expected-invoice-row';
import { waitFor } from '../support/wait';

let db: TestDatabase;
let sqs: TestSqs;
let processor: Awaited<ReturnType<typeof startProcessor>>;

beforeAll(async () => {
  db = await createTestDatabase();
  sqs = await startTestSqs();
  processor = await startProcessor({ databaseUrl: db.url, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, endpoint: sqs.endpoint });
});

afterAll(async () => {
  await processor?.stop();
  await sqs?.stop();
  await db?.drop();
});

const queueEmpty = async () => (await depth(sqs.client, sqs.queueUrl)) === 0;

it('turns a signed webhook into an invoice row', async () => {
  const id = uid('in');
  const [, finalized] = paidLifecycle(id, 1_700_000_000, { amount: 4321, customer: 'cus_e2e' });
  const res = await postSigned(processor.baseUrl, finalized!);
  expect(res).toEqual({ status: 200, body: { received: true } });

  const row = await waitFor('the invoice row', () => findInvoice(db.ds.manager, id).then((r) => r ?? undefined));
  expect(row).toMatchObject({
    status: 'open',
    stripeCustomerId: 'cus_e2e',
    amountCents: 4321,
    amountRemainingCents: 4321,
    currency: 'usd',
    finalizedAt: 1_700_000_001,
    lastEventId: eventId(finalized!),
  });
});

it('converges 20 lifecycles posted three times each, shuffled, with re-sent event ids, to the rows Stripe’s last states say', async () => {
  const seed = testSeed(20_240_611);
  const random = seededRandom(seed);
  const invoices = Array.from({ length: 20 }, (_, i) => {
    const id = uid('in');
    const start = 1_700_000_000 + i * 100;
    const amount = 1000 + i * 37;
    const lifecycle = paidLifecycle(id, start, { amount, customer: `cus_${i}` });
    // Stripe sometimes reports one change twice under different ids; the final paid snapshot and
    // one random earlier one are re-sent that way.
    const resent = [resentAs(lifecycle[4]!), resentAs(lifecycle[Math.floor(random() * 4)]!)];
    return { id, start, amount, lifecycle, resent };
  });

  const deliveries: StripeEvent[] = [];
  for (const inv of invoices) {
    for (const e of inv.lifecycle) deliveries.push(e, e, e);
    for (const e of inv.resent) deliveries.push(e, e);
  }
  const answers = await mapLimit(shuffle(deliveries, random), 16, (e) => postSigned(processor.baseUrl, e));
  expect(answers.filter((a) => a.status !== 200 || a.body?.['received'] !== true)).toEqual([]);

  const distinct = invoices.flatMap((inv) => [...inv.lifecycle, ...inv.resent]);
  const ids = distinct.map(eventId);
  await waitFor(`all ${ids.length} events processed (seed ${seed})`, async () => (await processedCount(db.ds, ids)) === ids.length, 45_000);
  // Later copies of already-processed events may still be in flight; they must change nothing either.
  await waitFor('the queue to drain', queueEmpty, 20_000);

  const now = Math.floor(Date.now() / 1000);
  for (const inv of invoices) {
    const row = await findInvoice(db.ds.manager, inv.id);
    // Whatever order the copies came in, the row is what the lifecycle's last paid snapshot says.
    expect({ seed, row }).toEqual({ seed, row: expectedFinalRow([...inv.lifecycle, ...inv.resent], now) });
    expect(row).toMatchObject({
      status: 'paid',
      amountCents: inv.amount,
      amountPaidCents: inv.amount,
      amountRemainingCents: 0,
      totalCents: inv.amount,
      paidAt: inv.start + 3,
      finalizedAt: inv.start + 1,
      attemptCount: 1,
      overdue: false,
    });
  }

  const stored: { id: string }[] = await db.ds.query(`SELECT id FROM stripe_events WHERE stripe_invoice_id = ANY($1::text[]) ORDER BY id`, [
    invoices.map((i) => i.id),
  ]);
  expect(stored.map((r) => r.id)).toEqual([...ids].sort());
  const rows = await eventRows(db.ds, ids);
  // Duplicates are recognised before merging, so no event is ever merged (or fails) twice; every
  // copy received counts as an attempt.
  // At least once per copy: under load a message can outlive its visibility timeout and be received
  // again, and that receive counts too.
  const copies = new Map<string, number>();
  for (const e of deliveries) copies.set(eventId(e), (copies.get(eventId(e)) ?? 0) + 1);
  expect(rows.filter((r) => !r.processed || r.attempts < copies.get(r.id)! || r.last_error !== null)).toEqual([]);
  expect(await depth(sqs.client, sqs.dlqUrl)).toBe(0);
}, 60_000);

it('answers ignored event types with 200 and never lets them reach the database', async () => {
  const previewId = uid('in');
  const ignored = [
    // A preview that (unlike Stripe's) carries an id, so only the type can keep it out.
    event('invoice.upcoming', invoice({ id: previewId, status: 'draft' })),
    event('charge.dispute.created', { id: uid('dp'), object: 'dispute', charge: uid('ch'), amount: 1000 }),
    event('customer.subscription.created', { id: uid('sub'), object: 'subscription', customer: uid('cus') }),
    event('invoiceitem.created', { id: uid('ii'), object: 'invoiceitem', invoice: previewId }),
  ];
  for (const e of ignored) {
    expect(await postSigned(processor.baseUrl, e)).toEqual({ status: 200, body: { received: true, ignored: true } });
  }

  // A handled event posted after them: once it is processed and the queue is empty, anything
  // the ignored ones had enqueued would have been processed too.
  const sentinelId = uid('in');
  const sentinel = paidLifecycle(sentinelId, 1_700_500_000)[1]!;
  expect((await postSigned(processor.baseUrl, sentinel)).status).toBe(200);
  await waitFor('the sentinel event', async () => (await processedCount(db.ds, [eventId(sentinel)])) === 1);
  await waitFor('the queue to drain', queueEmpty, 20_000);

  expect(await eventRows(db.ds, ignored.map(eventId))).toEqual([]);
  expect(await findInvoice(db.ds.manager, previewId)).toBeNull();
  expect(await depth(sqs.client, sqs.dlqUrl)).toBe(0);
});
