export interface RecordedCall {
  startedAt: number;
  /** Unset while the call's promise is pending. */
  settledAt?: number;
  outcome?: 'resolved' | 'rejected';
}

export interface CallRecord {
  readonly calls: readonly RecordedCall[];
  /** Calls settled with this outcome that started at or after `since` (a Date.now() value). */
  settled(outcome: 'resolved' | 'rejected', since?: number): RecordedCall[];
  restore(): void;
}

/**
 * Records every call of an async method of an object the test built and hands to the product
 * (a DataSource, say): when it started, when and how it settled. The call itself goes through
 * untouched. A test waits on these to know a round of the product's work has really been done,
 * instead of sleeping for as long as that usually takes.
 */
export function recordCalls(target: object, method: string): CallRecord {
  const holder = target as Record<string, unknown>;
  const original = holder[method];
  if (typeof original !== 'function') throw new Error(`${method} is not a method`);
  const calls: RecordedCall[] = [];
  holder[method] = function recorded(this: unknown, ...args: unknown[]): unknown {
    const call: RecordedCall = { startedAt: Date.now() };
    calls.push(call);
    const settle = (outcome: RecordedCall['outcome']) => {
      call.settledAt = Date.now();
      call.outcome = outcome;
    };
    const result = (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    result.then(
      () => settle('resolved'),
      () => settle('rejected'),
    );
    return result;
  };
  return {
    calls,
    settled: (outcome, since = 0) => calls.filter((c) => c.outcome === outcome && c.startedAt >= since),
    restore: () => {
      holder[method] = original;
    },
  };
}
