import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isRunning, ownIdentity, type ProcessIdentity } from './process-identity';

/**
 * What DATA_DIR/billing.lock says about the process running embedded services on DATA_DIR.
 * One process at a time: two embedded queues on one folder lose each other's registry, and
 * PostgreSQL allows one server per data directory anyway.
 */
export interface LockHolder extends ProcessIdentity {
  command: string;
  startedAt: string;
  /** Tells this holding apart from any earlier one of the same pid. */
  token: string;
  /** A long-running process (`billing dev`, `worker`, `mailer`): one-off commands may use its database while it runs. */
  shared: boolean;
  /** Its embedded PostgreSQL's port, once the server is up. */
  postgresPort?: number;
}

export const LOCK_FILE = 'billing.lock';

export function inUseMessage(dataDir: string, holder: LockHolder): string {
  const what = `DATA_DIR ${dataDir} is in use by pid ${holder.pid} (${holder.command}, running since ${holder.startedAt})`;
  return holder.shared
    ? `${what}; stop it first, or give this process another DATA_DIR`
    : `${what}, which runs its own embedded PostgreSQL until it ends; try again when it has finished, or give this process another DATA_DIR`;
}

/** How a holder's command line reads in messages: `billing dev` rather than a path to cli.js. */
export function describeCommand(argv: string[]): string {
  const script = argv[1] ? path.basename(argv[1]) : '';
  const words = script === 'cli.js' || script === 'billing' ? ['billing', ...argv.slice(2)] : [path.basename(argv[0] ?? 'node'), script, ...argv.slice(2)];
  const text = words.filter(Boolean).join(' ');
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

export function parseHolder(text: string): LockHolder | null {
  try {
    const h = JSON.parse(text) as LockHolder;
    return Number.isSafeInteger(h.pid) && typeof h.token === 'string' ? h : null;
  } catch {
    return null;
  }
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** A lock this process holds; released on stop. */
export class DataDirLock {
  constructor(
    readonly file: string,
    private holder: LockHolder,
  ) {}

  get shared(): boolean {
    return this.holder.shared;
  }

  /** This holding's token, as the lock file records it. */
  get token(): string {
    return this.holder.token;
  }

  /** Rewrites the lock (whole, by rename) so that a reader never sees half of it. */
  async update(change: Partial<Pick<LockHolder, 'shared' | 'postgresPort'>>): Promise<void> {
    this.holder = { ...this.holder, ...change };
    const staging = `${this.file}.${this.holder.token}`;
    await fs.writeFile(staging, JSON.stringify(this.holder), { mode: 0o644 });
    await fs.rename(staging, this.file);
  }

  async release(): Promise<void> {
    const text = await fs.readFile(this.file, 'utf8').catch(() => null);
    if (text !== null && parseHolder(text)?.token === this.holder.token) await fs.rm(this.file, { force: true });
  }
}

export type Acquired = { lock: DataDirLock; tookOverFrom?: LockHolder } | { holder: LockHolder };

/** Creates the lock file with its content in one step: a reader never finds it empty. */
async function create(file: string, holder: LockHolder): Promise<boolean> {
  const staging = `${file}.${holder.token}`;
  await fs.writeFile(staging, JSON.stringify(holder), { mode: 0o644 });
  try {
    await fs.link(staging, file);
    return true;
  } catch (err) {
    if (errno(err) === 'EEXIST') return false;
    // A filesystem without hard links: an exclusive create, then the content.
    const handle = await fs.open(file, 'wx', 0o644).catch((e: unknown) => {
      if (errno(e) === 'EEXIST') return null;
      throw e;
    });
    if (handle === null) return false;
    await handle.writeFile(JSON.stringify(holder));
    await handle.close();
    return true;
  } finally {
    await fs.rm(staging, { force: true });
  }
}

/**
 * Replaces a lock whose process is gone with ours, and only that one. Takeovers of one stale lock
 * are serialised by a takeover file named after it (created exclusively, as the lock is): under
 * it the lock is read again and, if it is still the stale one, replaced by ours in one rename, so
 * there is never a moment without a lock for a third process to create its own in. Nobody else
 * can have changed the lock meanwhile: creating one fails while the stale file exists, and
 * replacing one needs the takeover file. A takeover file left by a process that died while
 * holding it is passed over for the next one in its sequence. Returns false when another process
 * is taking over, or already has: the caller looks again.
 */
async function takeOver(file: string, staleText: string, me: LockHolder): Promise<boolean> {
  const key = createHash('sha256').update(staleText).digest('hex').slice(0, 16);
  for (let n = 0; n < 20; n++) {
    const takeover = `${file}.takeover-${key}-${n}`;
    if (await create(takeover, me)) {
      try {
        if ((await fs.readFile(file, 'utf8').catch(() => null)) !== staleText) return false;
        const staging = `${file}.${me.token}`;
        await fs.writeFile(staging, JSON.stringify(me), { mode: 0o644 });
        await fs.rename(staging, file);
        return true;
      } finally {
        for (let k = 0; k <= n; k++) await fs.rm(`${file}.takeover-${key}-${k}`, { force: true });
      }
    }
    const text = await fs.readFile(takeover, 'utf8').catch(() => null);
    const taker = text === null ? null : parseHolder(text);
    // Being written, or held by a live process: its takeover decides.
    if (taker === null || isRunning(taker)) {
      await new Promise((r) => setTimeout(r, 20));
      return false;
    }
  }
  throw new Error(`could not take ${file}: too many takeovers of it were abandoned`);
}

/** An unreadable lock younger than this may be one being written by a filesystem without links. */
const UNREADABLE_GRACE_MS = 2000;

/**
 * Takes DATA_DIR for this process, or says who has it. A lock left by a process that is no
 * longer running (checked by pid, start time and boot, so a reused pid does not count) is taken over.
 */
export async function acquireDataDirLock(dataDir: string, options: { shared: boolean; argv?: string[] }): Promise<Acquired> {
  await fs.mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const me: LockHolder = {
    ...ownIdentity(),
    command: describeCommand(options.argv ?? process.argv),
    startedAt: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
    shared: options.shared,
  };
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await create(file, me)) return { lock: new DataDirLock(file, me) };
    const text = await fs.readFile(file, 'utf8').catch(() => null);
    if (text === null) continue;
    const holder = parseHolder(text);
    if (holder === null) {
      const age = Date.now() - (await fs.stat(file).then((s) => s.mtimeMs, () => 0));
      if (age < UNREADABLE_GRACE_MS) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
    } else if (isRunning(holder)) {
      return { holder };
    }
    if (await takeOver(file, text, me)) return { lock: new DataDirLock(file, me), tookOverFrom: holder ?? undefined };
  }
  throw new Error(`could not take ${file}: it keeps changing`);
}

/** The live holder of DATA_DIR, if any (for one-off commands deciding whether to attach). */
export async function readDataDirLock(dataDir: string): Promise<LockHolder | null> {
  const text = await fs.readFile(path.join(dataDir, LOCK_FILE), 'utf8').catch(() => null);
  const holder = text === null ? null : parseHolder(text);
  return holder !== null && isRunning(holder) ? holder : null;
}
