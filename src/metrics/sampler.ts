/**
 * A value read on demand, at most once per `maxAgeMs`: scrapes in between get the last sample,
 * and scrapes that arrive while a read is under way share it. A read that fails also counts as a
 * sample (undefined), so a service that is down is asked no more often than one that is up.
 */
export class Sampler<T> {
  private last: { at: number; value: T | undefined } | undefined;
  private reading: Promise<T | undefined> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly nowMs: () => number = Date.now,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  get(): Promise<T | undefined> {
    const now = this.nowMs();
    if (this.last && now - this.last.at < this.maxAgeMs) return Promise.resolve(this.last.value);
    this.reading ??= this.read()
      .catch((err: unknown) => {
        this.onError(err);
        return undefined;
      })
      .then((value) => {
        this.last = { at: now, value };
        this.reading = undefined;
        return value;
      });
    return this.reading;
  }
}
