import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

/** The built CLI, as `npx billing` runs it. */
export const CLI = path.resolve(__dirname, '../../dist/src/cli.js');

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the CLI from the build in a child process, with only the environment given (and PATH, HOME). */
export function billing(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: os.tmpdir(), ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * The same, without blocking this process: needed whenever the CLI talks to a server running
 * inside the test process (the SQS emulator, the Stripe API test server).
 */
export function billingAsync(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: os.tmpdir(), ...env } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
