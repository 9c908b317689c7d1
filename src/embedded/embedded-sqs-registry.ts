import fs from 'node:fs/promises';
import path from 'node:path';

const FILE = 'embedded-sqs.json';

export interface RegisteredQueue {
  pid: number;
  endpoint: string;
  queueUrl: string;
  dlqUrl: string;
}

/** Lets other `billing` commands (replay, stats) reach the in-memory queue of a running `billing dev`. */
export async function registerEmbeddedSqs(dataDir: string, q: Omit<RegisteredQueue, 'pid'>): Promise<() => Promise<void>> {
  const file = path.join(dataDir, FILE);
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(file, JSON.stringify({ pid: process.pid, ...q }), { mode: 0o600 });
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
    process.kill(q.pid, 0);
    return q;
  } catch {
    return null;
  }
}
