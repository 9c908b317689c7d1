// Found by the fault suite's fuzz: a signed event over the queue's message limit whose content was
// nested some thousand levels deep made slimming throw a RangeError, which the webhook answered
// with 503, so Stripe would have retried an event that can never fit for three days.
import pino from 'pino';
import { EventQueue, EventTooLargeError } from '../../src/queue/event-queue';
import { handleWebhook } from '../../src/ingest/webhook-handler';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, sign, TEST_SECRET, uid } from '../support/stripe-events';

let sqs: TestSqs;
beforeAll(async () => {
  sqs = await startTestSqs();
});
afterAll(async () => {
  await sqs.stop();
});

function deepOversized(): { payload: string; parsed: Record<string, unknown> } {
  const e = event('invoice.finalized', invoice({ id: uid('in'), status: 'open', x_nested: '@@', description: 'y'.repeat(1_100_000) }));
  const levels = 20_000;
  const payload = JSON.stringify(e).replace('"@@"', `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);
  return { payload, parsed: JSON.parse(payload) as Record<string, unknown> };
}

it('refuses it as too large, not as a queue outage', async () => {
  const { payload, parsed } = deepOversized();
  await expect(new EventQueue(sqs.client, sqs.queueUrl).send(payload, parsed)).rejects.toBeInstanceOf(EventTooLargeError);
});

it('answers 413 at the webhook and enqueues nothing', async () => {
  const { payload } = deepOversized();
  const answer = await handleWebhook(
    { queue: new EventQueue(sqs.client, sqs.queueUrl), secrets: () => [TEST_SECRET], toleranceSeconds: 300, logger: pino({ level: 'silent' }) },
    Buffer.from(payload),
    sign(payload, TEST_SECRET),
  );
  expect(answer.status).toBe(413);
  expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
});
