import fs from 'node:fs/promises';
import path from 'node:path';
import { isRunning, ownIdentity, type ProcessIdentity } from './process-identity';

const FILE = 'embedded-sqs.json';

export interface RegisteredQueue extends ProcessIdentity {
  endpoint: string;
  queueUrl: string;
  dlqUrl: string;
}

/** Lets other `billing` commands (replay, stats) reach the in-memory queue of a running `billing dev`. */
export async function registerEmbeddedSqs(dataDir: string, q: Omit<RegisteredQueue, keyof ProcessIdentity>): Promise<() => Promise<void>> {
  const file = path.join(dataDir, FILE);
  await fs.mkdir(dataDir, { recursive: true });
  // With the process's start time: a later process that reuses the pid is not taken for it.
  await fs.writeFile(file, JSON.stringify({ ...ownIdentity(), ...q }), { mode: 0o600 });
  // Only our own entry: the file is how other commands find the queue of whoever wrote it last.
  return async () => {
    const text = await fs.readFile(file, 'utf8').catch(() => null);
    let entry: Partial<RegisteredQueue> | null = null;
    try {
      entry = text === null ? null : (JSON.parse(text) as Partial<RegisteredQueue>);
    } catch {
      // Not ours to judge: leave it.
    }
    if (entry?.pid === process.pid && entry.endpoint === q.endpoint) await fs.rm(file, { force: true });
  };
}

export async function findEmbeddedSqs(dataDir: string): Promise<RegisteredQueue | null> {
  const text = await fs.readFile(path.join(dataDir, FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const q = JSON.parse(text) as RegisteredQueue;
    return isRunning(q) ? q : null;
  } catch {
    return null;
  }
}
