import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { findInvoice } from '../../src/db/invoices';
import { redriveDlq } from '../../src/recovery/redrive-dlq';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startProcessor } from '../support/processor';
import { depth, sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { invoice, uid } from '../support/stripe-events';
import { thinEvent } from '../support/thin-events';
import { sleep, waitFor } from '../support/wait';

let sqs: TestSqs;
beforeEach(async () => {
  sqs = await startTestSqs({ maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
});
afterEach(async () => {
  await sqs.stop();
});

const queues = () => ({ queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl });

describe('redriveDlq', () => {
  it('lists without moving on a dry run, and leaves every message visible in the DLQ', async () => {
    for (let i = 0; i < 23; i++) await sendRaw(sqs.client, sqs.dlqUrl, JSON.stringify({ id: `evt_${i}`, type: 'invoice.paid', data: { object: { id: `in_${i}` } } }));
    const r = await redriveDlq(sqs.client, queues(), { dryRun: true, waitSeconds: 0 });
    expect(r).toMatchObject({ moved: 0, dryRun: true });
    expect(r.messages.map((m) => m.eventId).sort()).toEqual(Array.from({ length: 23 }, (_, i) => `evt_${i}`).sort());
    expect(r.messages[0]).toMatchObject({ type: 'invoice.paid' });
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
    // Released at once, not after the visibility timeout.
    const again = await redriveDlq(sqs.client, queues(), { dryRun: true, waitSeconds: 0 });
    expect(again.messages).toHaveLength(23);
  });

  it('moves at most --limit, then the rest, keeping bodies and message attributes', async () => {
    for (let i = 0; i < 25; i++) {
      await sqs.client.send(
        new SendMessageCommand({
          QueueUrl: sqs.dlqUrl,
          MessageBody: JSON.stringify({ id: `evt_${i}`, type: 'invoice.paid' }),
          MessageAttributes: { 'billing-replay': { DataType: 'String', StringValue: 'force' } },
        }),
      );
    }
    const first = await redriveDlq(sqs.client, queues(), { limit: 10, waitSeconds: 0 });
    expect(first).toMatchObject({ moved: 10, failed: 0 });
    const rest = await redriveDlq(sqs.client, queues(), { waitSeconds: 0 });
    expect(rest.moved).toBe(15);
    expect(await depth(sqs.client, sqs.dlqUrl)).toBe(0);

    const bodies = new Set<string>();
    for (let round = 0; round < 10 && bodies.size < 25; round++) {
      const res = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }));
      for (const m of res.Messages ?? []) {
        expect(m.MessageAttributes?.['billing-replay']?.StringValue).toBe('force');
        bodies.add(m.Body!);
      }
    }
    expect(bodies.size).toBe(25);
  });

  it('reports an empty DLQ as nothing moved', async () => {
    expect(await redriveDlq(sqs.client, queues(), { waitSeconds: 0 })).toMatchObject({ moved: 0, failed: 0, messages: [] });
  });

  it('names what is not an event without failing the move', async () => {
    await sendRaw(sqs.client, sqs.dlqUrl, 'not json');
    const r = await redriveDlq(sqs.client, queues(), { waitSeconds: 0 });
    expect(r.moved).toBe(1);
    expect(r.messages[0]).toMatchObject({ eventId: null, problem: 'body is not JSON' });
  });
});

describe('dead-lettered by a misconfigured worker, redriven once it is fixed', () => {
  let db: TestDatabase;
  let api: StripeApi;
  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startStripeApi();
  });
  afterAll(async () => {
    await api.stop();
    await db.drop();
  });

  it('merges the redriven events, and a poison message goes back to the DLQ, nothing dropped', async () => {
    const invoiceId = uid('in');
    api.invoices.put(invoice({ id: invoiceId, status: 'paid', amount_paid: 1000, amount_remaining: 0, created: 1_700_000_000 }));
    const services = { databaseUrl: db.url, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, endpoint: sqs.endpoint, roles: ['worker' as const] };

    // Without STRIPE_SECRET_KEY the worker cannot fetch a thin event's invoice: it dead-letters it.
    const broken = await startProcessor({ ...services, env: { SQS_VISIBILITY_TIMEOUT_SECONDS: '1' } });
    await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(thinEvent('v1.invoice.paid', invoiceId)));
    await sendRaw(sqs.client, sqs.queueUrl, '{"poison": true');
    await waitFor('both messages in the DLQ', async () => (await depth(sqs.client, sqs.dlqUrl)) === 2);
    await broken.stop();
    // Time is the subject: the stopped worker's last long polls stay open on the queue server for
    // their wait time (1 s) with no one to answer, and would take the redriven messages and hide
    // them; nothing observable says they have lapsed.
    await sleep(2500);
    // Both dead-lettered, so the broken worker is done with them: it merged nothing.
    expect(await findInvoice(db.ds.manager, invoiceId)).toBeNull();

    const fixed = await startProcessor({ ...services, env: { SQS_VISIBILITY_TIMEOUT_SECONDS: '1', STRIPE_SECRET_KEY: 'sk_test_redrive', STRIPE_API_BASE: api.url } });
    try {
      const r = await redriveDlq(sqs.client, queues(), { waitSeconds: 0 });
      expect(r.moved).toBe(2);
      await waitFor('the invoice row', () => findInvoice(db.ds.manager, invoiceId).then((row) => row?.status === 'paid'));
      await waitFor('the poison message back in the DLQ', async () => (await depth(sqs.client, sqs.dlqUrl)) === 1);
      // The event's message is deleted after its commit, and with a 1 s visibility timeout a slow
      // machine may have handed it to a second poller meanwhile: the queue empties, not at once.
      await waitFor('the queue empty', async () => (await depth(sqs.client, sqs.queueUrl)) === 0);
      expect(await depth(sqs.client, sqs.dlqUrl)).toBe(1);
    } finally {
      await fixed.stop();
    }
  });
});
