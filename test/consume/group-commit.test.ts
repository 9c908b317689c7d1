import { GroupCommit } from '../../src/consume/group-commit';

/** An apply whose calls the test ends by hand: each call's items, and a way to finish it. */
function heldApply() {
  const calls: Array<{ items: string[]; finish(outcomes?: string[]): void; fail(err: Error): void }> = [];
  const apply = (items: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({ items, finish: (outcomes) => resolve(outcomes ?? items.map((i) => `done ${i}`)), fail: reject });
    });
  return { calls, apply };
}

const settled = () => new Promise((r) => setImmediate(r));

it('applies a lone receive at once, alone', async () => {
  const { calls, apply } = heldApply();
  const groups = new GroupCommit(apply, 2);
  const done = groups.submit(['a', 'b']);
  expect(calls.map((c) => c.items)).toEqual([['a', 'b']]);
  calls[0]!.finish();
  await expect(done).resolves.toEqual({ outcomes: ['done a', 'done b'], group: 2 });
});

it('runs up to `transactions` applies at once; receives that arrive meanwhile go together in the next, each settling with its own outcomes', async () => {
  const { calls, apply } = heldApply();
  const groups = new GroupCommit(apply, 2);
  const first = groups.submit(['a']);
  const second = groups.submit(['b']);
  const third = groups.submit(['c', 'd']);
  const fourth = groups.submit(['e']);
  expect(calls.map((c) => c.items)).toEqual([['a'], ['b']]);

  calls[1]!.finish();
  await expect(second).resolves.toEqual({ outcomes: ['done b'], group: 1 });
  await settled();
  expect(calls.map((c) => c.items)).toEqual([['a'], ['b'], ['c', 'd', 'e']]);

  const fifth = groups.submit(['f']);
  await settled();
  expect(calls).toHaveLength(3);
  calls[2]!.finish();
  await expect(third).resolves.toEqual({ outcomes: ['done c', 'done d'], group: 3 });
  await expect(fourth).resolves.toEqual({ outcomes: ['done e'], group: 3 });
  await settled();
  expect(calls[3]!.items).toEqual(['f']);
  calls[3]!.finish();
  calls[0]!.finish();
  await expect(first).resolves.toEqual({ outcomes: ['done a'], group: 1 });
  await expect(fifth).resolves.toEqual({ outcomes: ['done f'], group: 1 });
});

it('with one transaction, never applies two groups at once', async () => {
  let running = 0;
  let most = 0;
  const sizes: number[] = [];
  const groups = new GroupCommit(async (items: number[]) => {
    running++;
    most = Math.max(most, running);
    sizes.push(items.length);
    await settled();
    running--;
    return items.map((i) => i * 2);
  }, 1);
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => groups.submit([i, i + 100])));
  expect(results.map((r) => r.outcomes)).toEqual(Array.from({ length: 8 }, (_, i) => [i * 2, (i + 100) * 2]));
  expect(most).toBe(1);
  expect(sizes).toEqual([2, 14]);
});

it("fails every receive of a group whose apply fails, and only those; the next group goes on", async () => {
  const { calls, apply } = heldApply();
  const groups = new GroupCommit(apply, 1);
  const first = groups.submit(['a']);
  const second = groups.submit(['b']);
  const third = groups.submit(['c']);
  calls[0]!.finish();
  await first;
  await settled();
  expect(calls[1]!.items).toEqual(['b', 'c']);
  calls[1]!.fail(new Error('the database went away'));
  await expect(second).rejects.toThrow('the database went away');
  await expect(third).rejects.toThrow('the database went away');
  const fourth = groups.submit(['d']);
  calls[2]!.finish();
  await expect(fourth).resolves.toEqual({ outcomes: ['done d'], group: 1 });
});

it('refuses an apply that answers for a different number of items, rather than misattributing outcomes', async () => {
  const { calls, apply } = heldApply();
  const groups = new GroupCommit(apply, 1);
  const first = groups.submit(['a', 'b']);
  calls[0]!.finish(['one outcome']);
  await expect(first).rejects.toThrow('a different number of outcomes');
});

it.each([0, -1, 1.5, Number.NaN])('refuses %p transactions', (n) => {
  expect(() => new GroupCommit(async () => [], n)).toThrow(RangeError);
});
