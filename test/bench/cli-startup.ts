// How long a person waits for the CLI: the built CLI (no npx) against a bare `node -e 0` in the
// same run, for --help, a finance export of 1,000 invoices and stats; and the ways to call it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBenchDatabase } from './bench-database';
import { ROOT } from './processes';
import { median, row, type Row } from './report';

export interface CliSizes {
  /** Runs of each command, alternating with the baseline. */
  rounds: number;
  invoices: number;
}

export interface CliQueue {
  endpoint: string;
  queueUrl: string;
  dlqUrl: string;
}

const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');

/** Wall time of one run, in seconds; the command must succeed. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.error?.message ?? r.stderr.slice(0, 500)}`);
  return seconds;
}

/**
 * Medians of each candidate and of `node -e 0` (with the candidates' environment), taken in turn
 * so that both see the same machine.
 */
function alternate(candidates: Record<string, () => number>, rounds: number, env: NodeJS.ProcessEnv): { bare: number; medians: Record<string, number> } {
  const bare: number[] = [];
  const runs: Record<string, number[]> = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]));
  // One untimed pass warms the page cache, as a person's second call would find it.
  timed(process.execPath, ['-e', '0'], env);
  for (const run of Object.values(candidates)) run();
  for (let i = 0; i < rounds; i++) {
    bare.push(timed(process.execPath, ['-e', '0'], env));
    for (const [name, run] of Object.entries(candidates)) runs[name]!.push(run());
  }
  return { bare: median(bare), medians: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])) };
}

export async function cliSection(adminUrl: string, queue: CliQueue, sizes: CliSizes): Promise<Row[]> {
  const db = await createBenchDatabase(adminUrl, sizes.invoices);
  // Only what the CLI needs: a finance person's shell, not the bench's environment.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'] ?? os.tmpdir(),
    DATABASE_URL: db.url,
    SQS_QUEUE_URL: queue.queueUrl,
    SQS_DLQ_URL: queue.dlqUrl,
    AWS_ENDPOINT_URL_SQS: queue.endpoint,
  };
  // What `npm link` installs: a `billing` on the PATH that is a link to the built CLI, which npm
  // makes executable (its first line names node).
  const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-bin-'));
  fs.symlinkSync(CLI, path.join(binDir, 'billing'));
  fs.chmodSync(CLI, 0o755);
  const linked = { ...env, PATH: `${binDir}:${env['PATH'] ?? ''}` };
  try {
    const node = (args: string[]) => () => timed(process.execPath, [CLI, ...args], env);
    const commands = alternate(
      {
        help: node(['--help']),
        invoices: node(['invoices', '--format', 'json', '--limit', String(sizes.invoices)]),
        stats: node(['stats']),
      },
      sizes.rounds,
      env,
    );
    const ways = alternate(
      {
        built: node(['--help']),
        linked: () => timed('billing', ['--help'], linked),
        npmRun: () => timed('npm', ['run', '--silent', 'billing', '--', '--help'], env),
        npx: () => timed('npx', ['billing', '--help'], env),
      },
      Math.max(1, Math.ceil(sizes.rounds / 2)),
      env,
    );
    const bareMs = commands.bare;
    const note = (what: string) => `${what}; median of ${sizes.rounds} runs alternating with node -e 0, after one untimed run`;
    const ms = (seconds: number) => Math.round(seconds * 1000);
    const waysNote = `median of ${Math.max(1, Math.ceil(sizes.rounds / 2))} runs each of --help: node dist/src/cli.js ${ms(ways.medians['built']!)} ms, linked bin (npm link) ${ms(ways.medians['linked']!)} ms, npm run -s billing -- ${ms(ways.medians['npmRun']!)} ms, npx billing ${ms(ways.medians['npx']!)} ms; node -e 0 ${ms(ways.bare)} ms`;
    return [
      row({
        figure: 'CLI: billing --help (built, no npx)',
        value: ms(commands.medians['help']!),
        unit: 'ms',
        baseline: 'node -e 0, same run',
        baselineValue: ms(bareMs),
        target: { on: 'value', op: '<=', limit: 300 },
        note: note('node dist/src/cli.js --help'),
      }),
      row({
        figure: `CLI: invoices --format json, ${sizes.invoices.toLocaleString('en-US')} invoices`,
        value: ms(commands.medians['invoices']!),
        unit: 'ms',
        baseline: 'node -e 0, same run',
        baselineValue: ms(bareMs),
        target: { on: 'value', op: '<=', limit: 1000 },
        note: note('against a migrated PostgreSQL over TCP (DATABASE_URL)'),
      }),
      row({
        figure: 'CLI: stats',
        value: ms(commands.medians['stats']!),
        unit: 'ms',
        baseline: 'node -e 0, same run',
        baselineValue: ms(bareMs),
        target: { on: 'value', op: '<=', limit: 1500 },
        note: note('database and both queues (the SQS server of the run)'),
      }),
      row({
        figure: "CLI: billing --help as the README recommends (a linked bin, npm link)",
        value: ms(ways.medians['linked']!),
        unit: 'ms',
        baseline: 'npx billing --help, same run',
        baselineValue: ms(ways.medians['npx']!),
        target: { on: 'value', op: '<=', limit: 300 },
        note: waysNote,
      }),
    ];
  } finally {
    fs.rmSync(binDir, { recursive: true, force: true });
    await db.drop();
  }
}
