import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  /** False when nothing is drawn, so callers can skip work done only for the bar (counting). */
  readonly active: boolean;
  /** Sets or raises the total once it is known (a paged listing learns it as it goes). */
  total(n: number): void;
  tick(n?: number, note?: string): void;
  /** Sets the count done so far, for callers that report totals rather than steps. */
  update(done: number, note?: string): void;
  stop(): void;
}

const silent: Progress = { active: false, total: () => undefined, tick: () => undefined, update: () => undefined, stop: () => undefined };

/**
 * A progress bar on stderr for a person at a terminal; nothing for pipes, CI logs and --json,
 * so what a script reads from stdout is never interleaved with it.
 */
export function progressBar(label: string, opts: { json?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.json || !stream.isTTY) return silent;
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total} {note}`, stream, hideCursor: true, clearOnComplete: false, etaBuffer: 50 },
    Presets.shades_classic,
  );
  let started = false;
  let value = 0;
  let total = 0;
  return {
    active: true,
    total(n) {
      total = Math.max(total, n);
      if (!started) {
        bar.start(total, value, { note: '' });
        started = true;
      } else bar.setTotal(total);
    },
    tick(n = 1, note = '') {
      value += n;
      if (!started) this.total(Math.max(total, value));
      if (value > total) bar.setTotal((total = value));
      bar.update(value, { note });
    },
    update(done, note = '') {
      this.tick(done - value, note);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Runs fn with a bar that is taken down however fn ends, so an error message starts on a clean line. */
export async function withProgress<T>(label: string, opts: { json?: boolean }, fn: (p: Progress) => Promise<T>): Promise<T> {
  const bar = progressBar(label, opts);
  try {
    return await fn(bar);
  } finally {
    bar.stop();
  }
}
