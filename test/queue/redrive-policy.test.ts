import { isLastReceive, maxReceiveCountOf } from '../../src/queue/redrive-policy';
import { eventState } from '../../src/read-models/event-log';

describe('maxReceiveCountOf (the queue\'s RedrivePolicy attribute)', () => {
  it('reads maxReceiveCount, as SQS returns it: a string or a number inside a JSON string', () => {
    expect(maxReceiveCountOf('{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:123456789012:q-dlq","maxReceiveCount":"5"}')).toBe(5);
    expect(maxReceiveCountOf('{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:123456789012:q-dlq","maxReceiveCount":3}')).toBe(3);
  });

  it('says "no DLQ" for a queue without a redrive policy', () => {
    expect(maxReceiveCountOf(undefined)).toBeNull();
    expect(maxReceiveCountOf('')).toBeNull();
  });

  it.each(['not json', '{}', '{"maxReceiveCount":0}', '{"maxReceiveCount":"five"}'])('refuses %p', (attribute) => {
    expect(() => maxReceiveCountOf(attribute)).toThrow();
  });
});

describe('isLastReceive', () => {
  it('is true from the receive that reaches maxReceiveCount on, and never without a DLQ', () => {
    expect([1, 2, 3, 4].map((n) => isLastReceive(n, 3))).toEqual([false, false, true, true]);
    expect(isLastReceive(1, 1)).toBe(true);
    expect(isLastReceive(1000, null)).toBe(false);
  });
});

describe('eventState (billing events)', () => {
  const at = '2026-12-03T10:00:00.000Z';
  it.each([
    [{ processedAt: null, attempts: 1, deadLetteredAt: null }, 'unprocessed (1 attempt)'],
    [{ processedAt: null, attempts: 2, deadLetteredAt: null }, 'unprocessed (2 attempts)'],
    [{ processedAt: null, attempts: 5, deadLetteredAt: at }, `unprocessed (5 attempts), dead-lettered ${at}`],
    [{ processedAt: '2026-12-03T09:00:00.000Z', attempts: 1, deadLetteredAt: null }, 'processed'],
    [{ processedAt: '2026-12-04T08:00:00.000Z', attempts: 6, deadLetteredAt: at }, `processed (was dead-lettered ${at})`],
  ])('%j reads %p', (entry, text) => {
    expect(eventState(entry)).toBe(text);
  });
});
