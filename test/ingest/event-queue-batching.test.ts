import { SetQueueAttributesCommand, type SendMessageBatchCommandInput, type SQSClient } from '@aws-sdk/client-sqs';
import { EventQueue, QueueUnavailableError } from '../../src/queue/event-queue';
import { InvalidBatchOptionError, MAX_BATCH_BYTES } from '../../src/queue/send-batcher';
import { createSqsClient } from '../../src/queue/sqs-client';
import { startTestSqs, type TestSqs } from '../support/sqs';
import { TEST_SECRET, event, invoice, sign, uid } from '../support/stripe-events';
import { drain, postWebhook, serveApp } from './harness';

interface Call {
  command: string;
  input: Record<string, unknown>;
}

/** A real client to the real server that also notes every command it sends. */
function observedClient(endpoint: string): { client: SQSClient; calls: Call[]; batches: () => SendMessageBatchCommandInput[] } {
  const client = createSqsClient({ region: 'us-east-1', endpoint });
  const calls: Call[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push({ command: String(context['commandName']), input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'observeCalls' },
  );
  const batches = () => calls.filter((c) => c.command === 'SendMessageBatchCommand').map((c) => c.input as unknown as SendMessageBatchCommandInput);
  return { client, calls, batches };
}

const eventOf = (body: string) => JSON.parse(body) as Record<string, unknown>;
const smallEvent = () => JSON.stringify(event('invoice.finalized', invoice({ id: uid('in'), status: 'open' })));
/** An event of about `bytes`, padded in metadata (the queue stores it whole). */
const eventOfSize = (bytes: number) => {
  const base = smallEvent();
  return JSON.stringify(event('invoice.finalized', invoice({ id: uid('in'), status: 'open', metadata: { pad: 'x'.repeat(bytes - base.length) } })));
};

let sqs: TestSqs;
beforeAll(async () => {
  sqs = await startTestSqs();
});
afterAll(async () => {
  await sqs?.stop();
});
beforeEach(async () => {
  await drain(sqs.client, sqs.queueUrl);
});

describe('EventQueue batching', () => {
  it('sends concurrent events as one SendMessageBatch and gives each caller its own MessageId', async () => {
    const observed = observedClient(sqs.endpoint);
    const queue = new EventQueue(observed.client, sqs.queueUrl);
    const bodies = Array.from({ length: 10 }, smallEvent);
    const sent = await Promise.all(bodies.map((b) => queue.send(b, eventOf(b))));

    expect(observed.batches()).toHaveLength(1);
    expect(observed.batches()[0]!.Entries).toHaveLength(10);
    expect(observed.calls.filter((c) => c.command === 'SendMessageCommand')).toEqual([]);
    expect(new Set(sent.map((s) => s.messageId)).size).toBe(10);
    // Each MessageId a caller got is the one the queue holds its own body under.
    const stored = await drain(sqs.client, sqs.queueUrl);
    expect([...stored].sort()).toEqual([...bodies].sort());
    observed.client.destroy();
  });

  it('starts a new batch after 10 entries', async () => {
    const observed = observedClient(sqs.endpoint);
    const queue = new EventQueue(observed.client, sqs.queueUrl);
    const bodies = Array.from({ length: 15 }, smallEvent);
    await Promise.all(bodies.map((b) => queue.send(b, eventOf(b))));
    expect(observed.batches().map((b) => b.Entries!.length)).toEqual([10, 5]);
    expect((await drain(sqs.client, sqs.queueUrl)).length).toBe(15);
    observed.client.destroy();
  });

  it('fails only the entry the queue refuses; the events batched with it are stored', async () => {
    const observed = observedClient(sqs.endpoint);
    const queue = new EventQueue(observed.client, sqs.queueUrl, { maxEntries: 5, lingerMs: 1000 });
    const good = Array.from({ length: 4 }, smallEvent);
    const bad = smallEvent();
    // SQS reserves attribute names starting with "AWS.": the entry is refused, the call is not.
    const results = await Promise.allSettled([
      ...good.slice(0, 2).map((b) => queue.send(b, eventOf(b))),
      queue.send(bad, eventOf(bad), { 'AWS.reserved': 'x' }),
      ...good.slice(2).map((b) => queue.send(b, eventOf(b))),
    ]);

    expect(observed.batches().map((b) => b.Entries!.length)).toEqual([5]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const refused = results[2] as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(QueueUnavailableError);
    expect([...(await drain(sqs.client, sqs.queueUrl))].sort()).toEqual([...good].sort());
    observed.client.destroy();
  });

  it('keeps every batch within 1 MiB, splitting large events across calls, and stores them all', async () => {
    const observed = observedClient(sqs.endpoint);
    const queue = new EventQueue(observed.client, sqs.queueUrl, { lingerMs: 1000 });
    const bodies = Array.from({ length: 4 }, () => eventOfSize(400_000));
    await Promise.all(bodies.map((b) => queue.send(b, eventOf(b))));

    const sizes = observed.batches().map((b) => b.Entries!.reduce((n, e) => n + Buffer.byteLength(e.MessageBody!), 0));
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect([...(await drain(sqs.client, sqs.queueUrl))].sort()).toEqual([...bodies].sort());
    observed.client.destroy();
  });

  it('refuses options outside what SQS allows when it is built, not when it sends', () => {
    expect(() => new EventQueue(sqs.client, sqs.queueUrl, { maxEntries: 11 })).toThrow(InvalidBatchOptionError);
    expect(() => new EventQueue(sqs.client, sqs.queueUrl, { maxEntries: 0 })).toThrow(InvalidBatchOptionError);
    expect(() => new EventQueue(sqs.client, sqs.queueUrl, { lingerMs: -1 })).toThrow(InvalidBatchOptionError);
    expect(() => new EventQueue(sqs.client, sqs.queueUrl, { lingerMs: Number.NaN })).toThrow(InvalidBatchOptionError);
    expect(() => new EventQueue(sqs.client, sqs.queueUrl, { maxWaitMs: 60_000 })).toThrow(InvalidBatchOptionError);
  });
});

describe('webhooks sharing a batch', () => {
  it('answers each on its own entry: 503 for the one the queue refuses, 200 for the others, which are queued', async () => {
    const own = await startTestSqs();
    const observed = observedClient(own.endpoint);
    // Five webhooks make exactly one batch: it is sent when the fifth arrives.
    const queue = new EventQueue(observed.client, own.queueUrl, { maxEntries: 5, lingerMs: 1000 });
    const app = await serveApp({ queue });
    try {
      // The queue learns its 1 MiB limit, then an operator lowers it to 256 KiB: the next large
      // event passes our check and is refused by the queue, alone.
      const warmUp = Array.from({ length: 5 }, smallEvent);
      await Promise.all(warmUp.map((b) => postWebhook(app.baseUrl, b, sign(b, TEST_SECRET))));
      await drain(own.client, own.queueUrl);
      await own.client.send(new SetQueueAttributesCommand({ QueueUrl: own.queueUrl, Attributes: { MaximumMessageSize: '262144' } }));
      const before = observed.batches().length;

      const small = Array.from({ length: 4 }, smallEvent);
      const large = eventOfSize(300_000);
      const bodies = [small[0]!, small[1]!, large, small[2]!, small[3]!];
      const answers = await Promise.all(bodies.map((b) => postWebhook(app.baseUrl, b, sign(b, TEST_SECRET))));

      expect(observed.batches().slice(before).map((b) => b.Entries!.length)).toEqual([5]);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 503, 200, 200]);
      expect([...(await drain(own.client, own.queueUrl))].sort()).toEqual([...small].sort());
    } finally {
      await app.close();
      observed.client.destroy();
      await own.stop();
    }
  });
});
