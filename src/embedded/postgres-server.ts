import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { BillingError } from '../errors';
import type { ServerUser } from './server-user';

/**
 * PostgreSQL's own account of why it stopped, kept to one line. It refuses the start: the host
 * or DATA_DIR needs a change, or DATABASE_URL another server.
 */
export class EmbeddedPostgresError extends BillingError {
  override readonly name = 'EmbeddedPostgresError';
  readonly retryable = false;
  override readonly exitCode = 2;
  constructor(
    message: string,
    /** The server could not listen on its port: another one may do. */
    readonly portTaken = false,
  ) {
    super(message.replace(/\s*\n\s*/g, ' ').trim());
  }
}

interface SpawnAs {
  user?: ServerUser;
  /** A folder the user can enter: initdb fails in a working directory it cannot see. */
  cwd: string;
}

/**
 * The child's whole environment: PostgreSQL needs none of ours, and ours holds API keys. Messages
 * in English, since start-up is recognised by one of them.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C' };
  if (process.env['TZ']) env['TZ'] = process.env['TZ'];
  return env;
}

function spawnAs(file: string, args: string[], as: SpawnAs, detached: boolean): ChildProcess {
  return spawn(file, args, {
    cwd: as.cwd,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
    ...(as.user ? { uid: as.user.uid, gid: as.user.gid } : {}),
  });
}

/** The line that says what went wrong, out of PostgreSQL's output. */
export function reasonFrom(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const fatal = lines.filter((l) => /\b(FATAL|PANIC|ERROR|error):/.test(l));
  return (fatal.length > 0 ? fatal.join('; ') : lines.slice(-2).join('; ')) || 'no output';
}

const spawnFailure = (what: string, err: NodeJS.ErrnoException, as: SpawnAs) =>
  new EmbeddedPostgresError(`cannot run ${what}${as.user ? ` as ${as.user.name}` : ''}: ${err.code ?? err.message}`);

export interface InitOptions {
  initdb: string;
  clusterDir: string;
  superuser: string;
  passwordFile: string;
}

/**
 * A new cluster: scram passwords, UTF-8 with the builtin C.UTF-8 locale (the same on every host,
 * whatever locales it has installed), messages in English.
 */
export function initCluster(o: InitOptions, as: SpawnAs, logger: Logger): Promise<void> {
  const args = [
    `--pgdata=${o.clusterDir}`,
    '--auth=scram-sha-256',
    `--username=${o.superuser}`,
    `--pwfile=${o.passwordFile}`,
    '--encoding=UTF8',
    '--locale=C',
    '--locale-provider=builtin',
    '--builtin-locale=C.UTF-8',
    '--lc-messages=C',
  ];
  return new Promise((resolve, reject) => {
    const child = spawnAs(o.initdb, args, as, false);
    let output = '';
    const collect = (d: Buffer) => {
      output += d.toString('utf8');
      logger.debug({ component: 'embedded-postgres' }, d.toString('utf8').trim());
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.on('error', (err) => reject(spawnFailure('initdb', err, as)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new EmbeddedPostgresError(`initdb failed (exit ${code}): ${reasonFrom(output)}`));
    });
  });
}

export interface ServerOptions {
  postgres: string;
  clusterDir: string;
  port: number;
  settings: string[];
}

export interface RunningServer {
  pid: number;
  stop(): Promise<void>;
}

const READY = 'database system is ready to accept connections';
const START_TIMEOUT_MS = 120_000;
const PORT_TAKEN = /could not bind|Address already in use|could not create any TCP\/IP sockets/i;

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts the server in a process group of its own: a Ctrl-C in the terminal goes to our process
 * alone, which stops the server last, after in-flight work has committed. Should this process
 * exit without stopping it (a crash, process.exit), the server is told to shut down as it goes.
 */
export function startServer(o: ServerOptions, as: SpawnAs, logger: Logger): Promise<RunningServer> {
  const args = ['-D', o.clusterDir, '-p', String(o.port), ...o.settings.flatMap((s) => ['-c', s])];
  return new Promise((resolve, reject) => {
    const child = spawnAs(o.postgres, args, as, true);
    let output = '';
    let ready = false;
    let stopping = false;
    const onExit = () => child.kill('SIGINT');
    process.once('exit', onExit);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new EmbeddedPostgresError(`PostgreSQL did not start within ${START_TIMEOUT_MS / 1000} s: ${reasonFrom(output)}`));
    }, START_TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => logger.debug({ component: 'embedded-postgres' }, d.toString('utf8').trim()));
    // Read for the server's whole life: a full pipe would block its logging, and then the server.
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      logger.debug({ component: 'embedded-postgres' }, text.trim());
      if (ready) return;
      output += text;
      if (!output.includes(READY)) return;
      ready = true;
      clearTimeout(timer);
      resolve({
        pid: child.pid!,
        stop: () => {
          stopping = true;
          return stop(child);
        },
      });
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(spawnFailure('postgres', err, as));
    });
    child.on('exit', (code, signal) => {
      process.removeListener('exit', onExit);
      if (ready) {
        if (!stopping) logger.warn({ component: 'embedded-postgres', code, signal }, 'the embedded PostgreSQL exited');
        return;
      }
      clearTimeout(timer);
      const reason = reasonFrom(output);
      reject(new EmbeddedPostgresError(`PostgreSQL exited while starting (${signal ?? `exit ${code}`}): ${reason}`, PORT_TAKEN.test(output)));
    });
  });
}

/** Fast shutdown (SIGINT): open sessions are ended, committed work is kept. */
async function stop(child: ChildProcess): Promise<void> {
  for (const [signal, ms] of [['SIGINT', 60_000], ['SIGQUIT', 10_000], ['SIGKILL', 10_000]] as const) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    if (await waitForExit(child, ms)) return;
  }
}
