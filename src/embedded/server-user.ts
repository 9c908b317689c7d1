import { execFile } from 'node:child_process';
import { BillingError } from '../errors';

/** The system user PostgreSQL runs as when we are root (it refuses to run as root itself). */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

/** Running as root with no user to run PostgreSQL as: the system needs one, or DATABASE_URL another server. */
export class NoServerUserError extends BillingError {
  override readonly name = 'NoServerUserError';
  readonly retryable = false;
  override readonly exitCode = 2;
  constructor() {
    super(
      'running as root, the embedded PostgreSQL needs a `postgres` system user to run as; this system has none and it could not be created: ' +
        'create one (useradd --system postgres) or set DATABASE_URL',
    );
  }
}

export interface UserChoice {
  user: ServerUser;
  /** Said in the banner when the choice is not the usual `postgres`. */
  note?: string;
}

/**
 * Pure. An existing cluster keeps its owner (PostgreSQL refuses a data directory owned by anyone
 * else). A new one runs as `postgres`, created first where the system has none (many container
 * images): not as `nobody`, whose files any other service running as nobody could read, and
 * these hold customers' names and addresses.
 */
export function pickServerUser(candidates: { clusterOwner?: ServerUser; postgres?: ServerUser }): UserChoice {
  const { clusterOwner, postgres } = candidates;
  if (clusterOwner && clusterOwner.uid !== 0) {
    return clusterOwner.name === 'postgres' ? { user: clusterOwner } : { user: clusterOwner, note: `as ${clusterOwner.name}, the owner of its data` };
  }
  if (postgres) return { user: postgres };
  throw new NoServerUserError();
}

/**
 * Adds a system user (no home, no login shell, its own group) with the system's own tool:
 * useradd (Debian, Ubuntu, RHEL), else BusyBox's adduser (Alpine). Resolves to the user, or to
 * undefined when neither could.
 */
export async function createSystemUser(name: string): Promise<ServerUser | undefined> {
  const useradd = await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name]);
  if (useradd.code !== 0) await run('adduser', ['-S', '-D', '-H', '-h', '/nonexistent', '-s', '/sbin/nologin', name]);
  return lookUpUser(name);
}

function run(file: string, args: string[], options: { uid?: number; gid?: number } = {}): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, cwd: '/', encoding: 'utf8', timeout: 15000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C' } }, (err, stdout) => {
      if (err === null) resolve({ code: 0, stdout });
      else resolve({ code: typeof err.code === 'number' ? err.code : null, stdout: stdout ?? '' });
    });
  });
}

/** A user by name or numeric id, through the system's own `id` (so NSS users count too). */
export async function lookUpUser(nameOrUid: string | number): Promise<ServerUser | undefined> {
  const who = String(nameOrUid);
  const [name, uid, gid] = await Promise.all([run('id', ['-nu', who]), run('id', ['-u', who]), run('id', ['-g', who])]);
  if (name.code !== 0 || uid.code !== 0 || gid.code !== 0) return undefined;
  return { name: name.stdout.trim(), uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export interface Access {
  path: string;
  /** r: readable; x: executable, or for a folder, enterable (which needs every parent enterable too). */
  mode: 'r' | 'x';
}

/**
 * Asks the system, as `user`, whether each path is reachable: mode bits alone miss ACLs,
 * parents, mounts and the supplementary groups Node drops when it switches user.
 */
export async function canReach(user: ServerUser, checks: Access[]): Promise<boolean> {
  for (const c of checks) {
    const r = await run('test', [`-${c.mode}`, c.path], { uid: user.uid, gid: user.gid });
    if (r.code !== 0) return false;
  }
  return true;
}

/** Whether `user` can run this PostgreSQL binary, libraries and all. */
export async function canRun(user: ServerUser, binary: string): Promise<boolean> {
  return (await run(binary, ['--version'], { uid: user.uid, gid: user.gid })).code === 0;
}
