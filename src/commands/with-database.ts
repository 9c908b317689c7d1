import type { DataSource } from 'typeorm';
import { loadConfig } from '../config';
import { createLogger } from '../log';
import { Closers, openDatabase } from '../run/resources';

/** Opens the configured (or embedded) database for one command, migrated, and closes it after. */
export async function withDatabase<T>(fn: (ds: DataSource) => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const closers = new Closers();
  try {
    const db = await openDatabase(config, logger, closers);
    return await fn(db.ds);
  } finally {
    await closers.closeAll(logger);
  }
}

/** A bad argument: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}
