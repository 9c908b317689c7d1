import { Writable } from 'node:stream';
import pino from 'pino';
import { RedriveLimit } from '../../src/consume/redrive-limit';
import { createReceivingSqsClient } from '../../src/queue/sqs-client';
import { deadUrl } from '../recovery/cli-helper';
import { startTestSqs, type TestSqs } from '../support/sqs';

let sqs: TestSqs;
beforeAll(async () => {
  sqs = await startTestSqs({ maxReceiveCount: 4 });
});
afterAll(async () => {
  await sqs?.stop();
});

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, sink) };
}

it('reads maxReceiveCount from the queue\'s redrive policy, not the configured value', async () => {
  const { lines, logger } = capture();
  expect(await new RedriveLimit(sqs.client, sqs.queueUrl, 9, logger).get()).toBe(4);
  expect(lines).toEqual([]);
});

it('says "never dead-lettered" for a queue without a redrive policy, and warns once', async () => {
  const { lines, logger } = capture();
  const limit = new RedriveLimit(sqs.client, sqs.dlqUrl, 9, logger);
  expect(await limit.get()).toBeNull();
  expect(await limit.get()).toBeNull();
  expect(lines.map((l) => l['msg'])).toEqual([expect.stringMatching(/no redrive policy/)]);
});

it('falls back to the configured value while the queue cannot be asked, warning once', async () => {
  const endpoint = await deadUrl();
  const client = createReceivingSqsClient({ region: 'us-east-1', endpoint, receiveTimeoutSeconds: 5 });
  const { lines, logger } = capture();
  try {
    const limit = new RedriveLimit(client, `${endpoint}/000000000000/q`, 9, logger);
    expect(await limit.get()).toBe(9);
    expect(await limit.get()).toBe(9);
  } finally {
    client.destroy();
  }
  expect(lines).toEqual([expect.objectContaining({ level: 40, maxReceiveCount: 9, msg: expect.stringMatching(/SQS_MAX_RECEIVE_COUNT/) })]);
});
