import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BillingError } from '../errors';
import type { PostgresBinaries } from './postgres-binaries';

/**
 * Where copies go when we are root and the user PostgreSQL runs as cannot reach the checkout or
 * DATA_DIR (anything under /root, a `mktemp -d` folder): root-owned, world-traversable, and
 * kept across runs like DATA_DIR itself.
 */
export const DEFAULT_HOST_DIR = '/var/lib/stripe-billing';

export interface PlacementFacts {
  /** DATA_DIR/postgres holds a cluster. */
  clusterInDataDir: boolean;
  /** The host folder holds this DATA_DIR's cluster (an earlier start put it there). */
  clusterInHostDir: boolean;
  /** The server user can enter DATA_DIR. */
  dataDirReachable: boolean;
  /** The server user can run the package's binaries where they are installed. */
  binariesReachable: boolean;
}

export type DataPlace = 'data-dir' | 'host-dir' | 'move-to-host-dir';

export interface Placement {
  binaries: 'package' | 'copy';
  data: DataPlace;
}

/**
 * Pure. Data stays where it already is whenever the server can reach it, so a start never
 * appears to lose the database; a cluster that can no longer be reached from DATA_DIR moves to
 * the host folder rather than being started empty elsewhere.
 */
export function placeServer(f: PlacementFacts): Placement {
  const binaries = f.binariesReachable ? 'package' : 'copy';
  if (f.clusterInHostDir) return { binaries, data: 'host-dir' };
  if (f.clusterInDataDir) return { binaries, data: f.dataDirReachable ? 'data-dir' : 'move-to-host-dir' };
  return { binaries, data: f.dataDirReachable ? 'data-dir' : 'host-dir' };
}

export interface HostPaths {
  root: string;
  binaries: string;
  /** This DATA_DIR's folder: a DATA_DIR file naming it, and the cluster. */
  dataHome: string;
  cluster: string;
}

/** Copies are keyed by the binaries' release and by DATA_DIR's real path (a folder per DATA_DIR). */
export function hostPaths(hostDir: string, realDataDir: string, binaries: PostgresBinaries): HostPaths {
  const key = createHash('sha256').update(realDataDir).digest('hex').slice(0, 16);
  const release = binaries.release.replace(/^@/, '').replace(/\//g, '+');
  const dataHome = path.join(hostDir, 'data', key);
  return { root: hostDir, binaries: path.join(hostDir, 'postgres', release), dataHome, cluster: path.join(dataHome, 'postgres') };
}

/** The root-owned folder for the embedded PostgreSQL is unsafe to use: the host needs a fix. */
export class HostDirError extends BillingError {
  override readonly name = 'HostDirError';
  readonly retryable = false;
  override readonly exitCode = 2;
}

/**
 * Creates a folder root owns and everyone may enter. An existing one must be a real folder,
 * owned by root and writable by root alone: binaries placed there are run by PostgreSQL.
 */
async function rootFolder(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const st = await fs.lstat(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new HostDirError(`${dir} must be a folder owned by root and writable only by root (it holds the embedded PostgreSQL); fix or remove it, or set DATABASE_URL`);
  }
  if ((st.mode & 0o755) !== 0o755) await fs.chmod(dir, 0o755);
}

async function copyTree(from: string, to: string): Promise<void> {
  await fs.mkdir(to);
  await fs.chmod(to, 0o755);
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isSymbolicLink()) await fs.symlink(await fs.readlink(src), dst);
    else if (entry.isDirectory()) await copyTree(src, dst);
    else {
      await fs.copyFile(src, dst);
      // Whatever umask the package was unpacked under: readable by all, executable where it was.
      await fs.chmod(dst, ((await fs.stat(src)).mode & 0o111) !== 0 ? 0o755 : 0o644);
    }
  }
}

/**
 * Places a copy of the binaries under the host folder, once per release. Copied beside the
 * target and renamed into place, so a concurrent start (the test setup and `npm start`) never
 * sees a half-copied tree.
 */
export async function copyBinaries(binaries: PostgresBinaries, host: HostPaths): Promise<PostgresBinaries> {
  await rootFolder(host.root);
  await rootFolder(path.dirname(host.binaries));
  const copied = { dir: host.binaries, release: binaries.release };
  if (await exists(host.binaries)) return copied;
  const staging = `${host.binaries}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await copyTree(binaries.dir, staging);
    await fs.rename(staging, host.binaries).catch(async (err: NodeJS.ErrnoException) => {
      if (!(await exists(host.binaries))) throw err;
    });
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  return copied;
}

/** The folder for this DATA_DIR's cluster, with a note of which DATA_DIR it belongs to. */
export async function prepareDataHome(host: HostPaths, realDataDir: string): Promise<void> {
  await rootFolder(host.root);
  await rootFolder(path.dirname(host.dataHome));
  await rootFolder(host.dataHome);
  await fs.writeFile(path.join(host.dataHome, 'DATA_DIR'), `${realDataDir}\n`, { mode: 0o644 });
}

export async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

export async function isCluster(dir: string): Promise<boolean> {
  return exists(path.join(dir, 'PG_VERSION'));
}
