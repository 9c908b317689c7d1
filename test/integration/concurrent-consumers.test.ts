import { isDeepStrictEqual } from 'node:util';
import { findInvoice } from '../../src/db/invoices';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startProcessor } from '../support/processor';
import { depth, sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { paidLifecycle, uid } from '../support/stripe-events';
import {
  eventId,
  eventRows,
  mapLimit,
  processedCount,
  resentAs,
  seededRandom,
  shuffle,
  testSeed,
  voidLifecycle,
  type StripeEvent,
} from './helpers';
import { expectedFinalRow } from '../support/expected-invoice-row';
import { waitFor } from '../support/wait';

const INVOICES = 100;
const MESSAGES = 1000;

let db: TestDatabase;
let sqs: TestSqs;
const processors: Array<Awaited<ReturnType<typeof startProcessor>>> = [];

beforeAll(async () => {
  // Three processes' pools (10 each) plus the test's own queries.
  db = await createTestDatabase(5);
  sqs = await startTestSqs();
});

afterAll(async () => {
  await Promise.all(processors.map((p) => p.stop()));
  await sqs?.stop();
  await db?.drop();
});

it('three workers on one queue and database merge 1,000 shuffled, duplicated events into the rows Stripe’s last states say', async () => {
  const seed = testSeed(7_331);
  const random = seededRandom(seed);
  const invoices = Array.from({ length: INVOICES }, (_, i) => {
    const id = uid('in');
    const start = 1_700_000_000 + i * 10;
    const amount = 500 + i * 11;
    // Every fourth ends void: its last second holds an update, the void and another update.
    const ending = i % 4 === 3 ? ('void' as const) : ('paid' as const);
    const lifecycle = ending === 'void' ? voidLifecycle(id, start, { amount, customer: `cus_${i}` }) : paidLifecycle(id, start, { amount, customer: `cus_${i}` });
    return { id, start, amount, ending, lifecycle, resent: [] as StripeEvent[] };
  });

  // 600 lifecycle events, 100 of them also re-sent under a new id, and 300 exact redeliveries.
  const messages: StripeEvent[] = invoices.flatMap((inv) => inv.lifecycle);
  for (const inv of invoices) {
    const again = resentAs(inv.lifecycle[1 + Math.floor(random() * 5)]!);
    inv.resent.push(again);
    messages.push(again);
  }
  const distinct = [...messages];
  while (messages.length < MESSAGES) messages.push(distinct[Math.floor(random() * distinct.length)]!);
  expect(messages).toHaveLength(MESSAGES);

  // The whole backlog is queued before any worker starts, so the workers race for it from the start.
  await mapLimit(shuffle(messages, random), 32, (e) => sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(e)));
  for (let i = 0; i < 3; i++) {
    processors.push(
      await startProcessor({
        databaseUrl: db.url,
        queueUrl: sqs.queueUrl,
        dlqUrl: sqs.dlqUrl,
        endpoint: sqs.endpoint,
        roles: ['worker'],
        env: { WORKER_POLLERS: '2' },
      }),
    );
  }

  const ids = distinct.map(eventId);
  await waitFor(`the queue to drain (seed ${seed})`, async () => (await depth(sqs.client, sqs.queueUrl)) === 0, 45_000, 250);
  expect(await depth(sqs.client, sqs.dlqUrl)).toBe(0);
  expect(await processedCount(db.ds, ids)).toBe(ids.length);

  const now = Math.floor(Date.now() / 1000);
  const wrong: unknown[] = [];
  for (const inv of invoices) {
    const row = await findInvoice(db.ds.manager, inv.id);
    const lastState = expectedFinalRow([...inv.lifecycle, ...inv.resent], now);
    const expected =
      inv.ending === 'paid'
        ? { status: 'paid', amountPaidCents: inv.amount, amountRemainingCents: 0, paidAt: inv.start + 3, voidedAt: null }
        : { status: 'void', amountPaidCents: 0, amountRemainingCents: 0, paidAt: null, voidedAt: inv.start + 3 };
    const ok =
      row !== null &&
      isDeepStrictEqual(row, lastState) &&
      Object.entries(expected).every(([k, v]) => row[k as keyof typeof row] === v) &&
      row.amountCents === inv.amount &&
      row.finalizedAt === inv.start + 1 &&
      row.attemptCount === 1;
    if (!ok) wrong.push({ invoice: inv.id, ending: inv.ending, row, expected: lastState });
  }
  // One list of every wrong invoice says more about a race than the first mismatch alone.
  expect({ seed, wrong }).toEqual({ seed, wrong: [] });

  const [{ n: invoiceRows }] = await db.ds.query(`SELECT count(*)::int AS n FROM invoices`);
  expect(invoiceRows).toBe(INVOICES);
  const [{ n: eventCount }] = await db.ds.query(`SELECT count(*)::int AS n FROM stripe_events`);
  expect(eventCount).toBe(ids.length);
  const rows = await eventRows(db.ds, ids);
  expect(rows).toHaveLength(ids.length);
  // A redelivery racing its original waits on the event row and then sees it done: merged once,
  // never failed, and counted as a receive.
  // At least once per copy: under load a message can outlive its visibility timeout and be received
  // again, and that receive counts too.
  const copies = new Map<string, number>();
  for (const e of messages) copies.set(eventId(e), (copies.get(eventId(e)) ?? 0) + 1);
  expect(rows.filter((r) => !r.processed || r.attempts < copies.get(r.id)! || r.last_error !== null)).toEqual([]);
}, 60_000);
