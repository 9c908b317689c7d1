import { isDeepStrictEqual } from 'node:util';
import { Writable } from 'node:stream';
import pino from 'pino';
import { findInvoice } from '../../src/db/invoices';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { expectedFinalRow } from '../support/expected-invoice-row';
import { startProcessor } from '../support/processor';
import { depth, sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { paidLifecycle, uid } from '../support/stripe-events';
import { waitFor } from '../support/wait';
import { eventId, eventRows, mapLimit, resentAs, seededRandom, shuffle, testSeed, voidLifecycle, type StripeEvent } from './helpers';

// Under load the worker's receives share transactions (WORKER_TRANSACTIONS): a backlog drained by
// six pollers through one transaction at a time must leave the rows Stripe's last states say, each
// event applied once, with the receives that waited applied together.

let db: TestDatabase;
let sqs: TestSqs;
let processor: Awaited<ReturnType<typeof startProcessor>> | undefined;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  db = await createTestDatabase(5);
  sqs = await startTestSqs({ visibilityTimeoutSeconds: 30 });
});

afterAll(async () => {
  await processor?.stop();
  await sqs?.stop();
  await db?.drop();
});

it('drains a shuffled, duplicated backlog through shared transactions into the rows of the last snapshots', async () => {
  const seed = testSeed(4_242);
  const random = seededRandom(seed);
  const invoices = Array.from({ length: 40 }, (_, i) => {
    const id = uid('in');
    const start = 1_700_000_000 + i * 10;
    const lifecycle = i % 4 === 3 ? voidLifecycle(id, start, { amount: 700 + i }) : paidLifecycle(id, start, { amount: 700 + i });
    return { id, events: [...lifecycle, resentAs(lifecycle[1 + Math.floor(random() * 5)]!)] };
  });
  const distinct: StripeEvent[] = invoices.flatMap((inv) => inv.events);
  const messages = [...distinct, ...Array.from({ length: 60 }, () => distinct[Math.floor(random() * distinct.length)]!)];
  await mapLimit(shuffle(messages, random), 16, (e) => sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(e)));

  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  processor = await startProcessor({
    databaseUrl: db.url,
    queueUrl: sqs.queueUrl,
    dlqUrl: sqs.dlqUrl,
    endpoint: sqs.endpoint,
    roles: ['worker'],
    env: { WORKER_POLLERS: '6', WORKER_TRANSACTIONS: '1', SQS_VISIBILITY_TIMEOUT_SECONDS: '30' },
    logger: pino({ level: 'info' }, sink),
  });
  const processed = () => lines.filter((l) => l['msg'] === 'event processed');
  await waitFor(`every message acknowledged (seed ${seed})`, async () => processed().length === messages.length && (await depth(sqs.client, sqs.queueUrl)) === 0, 45_000, 100);

  const now = Math.floor(Date.now() / 1000);
  const wrong: unknown[] = [];
  for (const inv of invoices) {
    const row = await findInvoice(db.ds.manager, inv.id);
    const expected = expectedFinalRow(inv.events, now);
    if (!isDeepStrictEqual(row, expected)) wrong.push({ invoice: inv.id, row, expected });
  }
  expect({ seed, wrong }).toEqual({ seed, wrong: [] });

  const rows = await eventRows(db.ds, distinct.map(eventId));
  expect(rows).toHaveLength(distinct.length);
  const copies = new Map<string, number>();
  for (const e of messages) copies.set(eventId(e), (copies.get(eventId(e)) ?? 0) + 1);
  expect(rows.filter((r) => !r.processed || r.attempts !== copies.get(r.id) || r.last_error !== null)).toEqual([]);
  expect(processed().filter((l) => l['outcome'] === 'merged' || l['outcome'] === 'unchanged')).toHaveLength(distinct.length);

  // Each line says how many messages its transaction carried: never fewer than its own receive,
  // never more than six receives, and more than one receive at least once while the backlog lasted.
  const sizes = processed().map((l) => ({ batch: l['batch'] as number, group: l['group'] as number }));
  expect(sizes.filter((s) => !(s.group >= s.batch && s.group <= 60))).toEqual([]);
  expect(sizes.some((s) => s.group > s.batch)).toBe(true);
  expect(lines.filter((l) => (l['level'] as number) >= 40)).toEqual([]);
}, 60_000);
