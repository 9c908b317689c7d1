export interface Committed<O> {
  /** One per item submitted, in the same order. */
  outcomes: O[];
  /** Items applied together with these (these included): the size of the transaction that carried them. */
  group: number;
}

/**
 * Group commit for the worker's receives, the consuming side of the webhook's SendBatcher: at most
 * `transactions` applies run at once; a receive that arrives while they are all busy waits, and
 * every receive waiting when one finishes goes together in the next. A lone receive never waits,
 * so a quiet queue's latency is as before, while under load a transaction carries several
 * receives (up to pollers × 10 messages) and its fixed cost (the lock pass, each kind's
 * statements, the commit) is shared by all of them. The events of a group may come in any order
 * and repeat one another: the pipeline merges them as it would merge them one receive at a time.
 */
export class GroupCommit<I, O> {
  private waiting: Array<{ items: readonly I[]; resolve(done: Committed<O>): void; reject(err: unknown): void }> = [];
  private running = 0;

  constructor(
    /** Applies a group's items in order and gives one outcome per item, in the same order. */
    private readonly apply: (items: I[]) => Promise<O[]>,
    private readonly transactions: number,
  ) {
    if (!Number.isInteger(transactions) || transactions < 1) throw new RangeError(`transactions must be a whole number of at least 1, got ${transactions}`);
  }

  /** Settles with this receive's own outcomes, once the group that carried it is done. */
  submit(items: readonly I[]): Promise<Committed<O>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      this.startNext();
    });
  }

  private startNext(): void {
    if (this.running >= this.transactions || this.waiting.length === 0) return;
    const group = this.waiting;
    this.waiting = [];
    this.running++;
    void this.run(group).finally(() => {
      this.running--;
      this.startNext();
    });
  }

  private async run(group: typeof this.waiting): Promise<void> {
    try {
      const all = group.flatMap((g) => g.items);
      const outcomes = await this.apply(all);
      if (outcomes.length !== all.length) throw new Error('a group commit gave a different number of outcomes than it took items');
      let at = 0;
      for (const g of group) {
        g.resolve({ outcomes: outcomes.slice(at, at + g.items.length), group: all.length });
        at += g.items.length;
      }
    } catch (err) {
      for (const g of group) g.reject(err);
    }
  }
}

