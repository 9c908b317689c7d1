/**
 * The maxReceiveCount of a queue's RedrivePolicy attribute (a JSON string), or null when the queue
 * has none: its messages are then never dead-lettered. Throws on a policy it cannot read.
 */
export function maxReceiveCountOf(redrivePolicy: string | undefined): number | null {
  if (redrivePolicy === undefined || redrivePolicy.trim() === '') return null;
  const policy = JSON.parse(redrivePolicy) as { maxReceiveCount?: unknown };
  const n = Number(policy.maxReceiveCount);
  if (!Number.isInteger(n) || n < 1) throw new Error('RedrivePolicy has no valid maxReceiveCount');
  return n;
}

/**
 * True when a message that failed on this receive will not be delivered again: SQS moves a
 * message whose receive count has reached maxReceiveCount to the DLQ instead. Null: no DLQ.
 */
export function isLastReceive(receiveCount: number, maxReceiveCount: number | null): boolean {
  return maxReceiveCount !== null && receiveCount >= maxReceiveCount;
}
