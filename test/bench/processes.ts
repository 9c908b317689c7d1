import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

export interface Child {
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
  /** Peak resident set size seen by sampling /proc, in MiB. */
  peakRssMiB(): number;
}

function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8') as string;
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

export function startChild(kind: 'tsx' | 'node', args: string[], env: Record<string, string>, readyPattern: RegExp): Promise<Child> {
  const proc = spawn(kind === 'tsx' ? TSX : process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(proc.pid))), 200);
  proc.stdout!.on('data', (d) => (out = (out + d).slice(-200_000)));
  proc.stderr!.on('data', (d) => (out = (out + d).slice(-200_000)));
  const child: Child = {
    proc,
    output: () => out,
    peakRssMiB: () => peak,
    stop: () =>
      new Promise((resolve) => {
        clearInterval(sampler);
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 15000).unref();
      }),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not become ready: ${args.join(' ')}\n${out.slice(-2000)}`)), 60000);
    const check = () => {
      if (readyPattern.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}: ${args.join(' ')}\n${out.slice(-2000)}`));
    });
  });
}
