import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../../support/cli';
import { logDir } from './run';

export type BillingCommand = 'dev' | 'serve' | 'worker' | 'mailer';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One `billing <command>` child process whose every output line also lands in the run's logs. */
export interface BillingProcess {
  name: string;
  proc: ChildProcess;
  pid: number;
  logFile: string;
  exited: Promise<Exit>;
  /** The last 2 MB the process wrote; readLog() has all of it. */
  output(): string;
  /** Everything written so far, from the log file. */
  readLog(): string;
  /** Resolves when the output matches, rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  alive(): boolean;
  kill(signal?: NodeJS.Signals): Promise<Exit>;
  /** SIGTERM and wait: a clean stop. */
  stop(): Promise<Exit>;
  /** Resident set size now, in MiB (0 once gone). */
  rssMiB(): number;
}

let serial = 0;
const TAIL_CHARS = 2_000_000;

export function readRssMiB(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * Spawns the built CLI as an operator would, with only the environment given (plus PATH and HOME),
 * and resolves once it has printed its banner, i.e. once it is serving.
 */
export async function startBilling(command: BillingCommand, env: Record<string, string>, name: string = command): Promise<BillingProcess> {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: npm run test:faults builds first');
  const logFile = path.join(logDir(), `${String(++serial).padStart(3, '0')}-${name}.log`);
  const log = fs.createWriteStream(logFile);
  // A worker's or mailer's status port (/metrics, /healthz) is not the webhook's: each takes a free one.
  const ownPort = command === 'worker' || command === 'mailer' ? { PORT: '0' } : {};
  const proc = spawn(process.execPath, [CLI, command], {
    env: { PATH: process.env['PATH'] ?? '', HOME: os.tmpdir(), ...env, ...ownPort },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (d: string) => {
    text += d;
    if (text.length > TAIL_CHARS) text = text.slice(-TAIL_CHARS / 2);
    log.write(d);
    for (const w of waiters) w();
  };
  proc.stdout!.setEncoding('utf8').on('data', onData);
  proc.stderr!.setEncoding('utf8').on('data', onData);
  const exited = new Promise<Exit>((resolve) =>
    proc.once('exit', (code, signal) => {
      // The pipes may still hold the last lines; the log is closed once they are read.
      proc.stdout!.once('end', () => log.end());
      resolve({ code, signal });
      for (const w of waiters) w();
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  const child: BillingProcess = {
    name,
    proc,
    pid: proc.pid!,
    logFile,
    exited,
    output: () => text,
    readLog: () => fs.readFileSync(logFile, 'utf8'),
    alive: () => !gone,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(text);
          if (m) return finish(() => resolve(m));
          if (gone) finish(() => reject(new Error(`${name} exited before printing ${pattern}:\n${text.slice(-3000)}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`${name}: no ${pattern} within ${timeoutMs} ms:\n${text.slice(-3000)}`))), timeoutMs);
        const finish = (then: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          then();
        };
        waiters.add(check);
        check();
      }),
    kill: async (signal = 'SIGKILL') => {
      if (!gone) proc.kill(signal);
      return exited;
    },
    stop: async () => {
      if (!gone) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
    rssMiB: () => (gone ? 0 : readRssMiB(proc.pid!)),
  };
  await child.waitFor(/^stripe-billing /m, 90_000);
  return child;
}


/** Log lines written between two moments (pino's ISO `time`). */
export const between = (lines: Array<Record<string, unknown>>, from: number, to: number) =>
  lines.filter((l) => {
    const t = Date.parse(String(l['time']));
    return t >= from && t <= to;
  });
