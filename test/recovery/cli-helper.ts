import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/embedded/embedded-postgres';
import { billingAsync, CLI, type CliResult } from '../support/cli';

const ROOT = path.resolve(__dirname, '../..');

/** The CLI tests run the build, as `npx billing` does; a build without these commands is stale. */
export function requireBuild(): void {
  for (const file of [CLI, path.join(ROOT, 'dist/src/recovery/backfill.js'), path.join(ROOT, 'dist/src/recovery/reconcile.js')]) {
    if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run npm run build first`);
  }
}

/**
 * The built CLI in a child process (asynchronously: the Stripe API and SQS servers it talks to
 * run in this test process), with a DATA_DIR of its own so nothing lands in the checkout.
 */
export async function billing(args: string[], env: Record<string, string>): Promise<CliResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-cli-'));
  try {
    return await billingAsync(args, { DATA_DIR: dataDir, ...env });
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A URL where nothing listens: the API or queue is unreachable. */
export async function deadUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

/** Collects the warnings a core function logs, for assertions. */
export function warnings() {
  const seen: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  return { seen, logger: { warn: (obj: Record<string, unknown>, msg: string) => void seen.push({ obj, msg }) } };
}
