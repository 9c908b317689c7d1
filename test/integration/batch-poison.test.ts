import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startProcessor } from '../support/processor';
import { depth, receiveBodies, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, paidLifecycle, uid } from '../support/stripe-events';
import { eventId, eventRows, processedCount } from './helpers';
import { waitFor } from '../support/wait';

let db: TestDatabase;
let sqs: TestSqs;
let processor: Awaited<ReturnType<typeof startProcessor>>;

beforeAll(async () => {
  db = await createTestDatabase();
  // A database that refuses one event, as a constraint or trigger an operator added would.
  await db.ds.query(`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.id LIKE 'evt_poison%' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
  await db.ds.query(`CREATE TRIGGER refuse_poison BEFORE INSERT ON stripe_events FOR EACH ROW EXECUTE FUNCTION refuse_poison()`);
  sqs = await startTestSqs({ maxReceiveCount: 3, visibilityTimeoutSeconds: 1 });
  processor = await startProcessor({
    databaseUrl: db.url,
    queueUrl: sqs.queueUrl,
    dlqUrl: sqs.dlqUrl,
    endpoint: sqs.endpoint,
    roles: ['worker'],
    env: { SQS_VISIBILITY_TIMEOUT_SECONDS: '1', WORKER_POLLERS: '1' },
  });
});

afterAll(async () => {
  await processor?.stop();
  await sqs?.stop();
  await db?.drop();
});

it('processes the good events of a receive once and sends the one the database refuses to the DLQ', async () => {
  const good = Array.from({ length: 9 }, () => paidLifecycle(uid('in'), 1_700_000_000)[1]!);
  // A verified, well-formed event the database refuses: it fails in the batch's transaction, and
  // on every retry alone, but never takes its batch-mates with it.
  const poison = event('invoice.finalized', invoice({ id: uid('in'), status: 'open' }), { id: uid('evt_poison') });
  const bodies = [...good.slice(0, 5), poison, ...good.slice(5)].map((e) => JSON.stringify(e));
  await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: sqs.queueUrl, Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })) }));

  await waitFor('the good events', async () => (await processedCount(db.ds, good.map(eventId))) === good.length, 20_000);
  await waitFor('the poison in the DLQ', async () => (await depth(sqs.client, sqs.dlqUrl)) === 1, 30_000, 250);
  await waitFor('the queue to drain', async () => (await depth(sqs.client, sqs.queueUrl)) === 0, 10_000);

  expect(await receiveBodies(sqs.client, sqs.dlqUrl)).toEqual([JSON.stringify(poison)]);
  const rows = await eventRows(db.ds, good.map(eventId));
  expect(rows.filter((r) => !r.processed || r.attempts !== 1 || r.last_error !== null)).toEqual([]);
  expect(rows).toHaveLength(good.length);
}, 60_000);
