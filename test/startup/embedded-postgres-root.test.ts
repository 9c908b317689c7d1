import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/embedded/embedded-postgres';
import { packageBinaries } from '../../src/embedded/postgres-binaries';

// What a container or CI job does: everything as root, inside folders nobody else may enter.
const asRoot = process.getuid?.() === 0 ? describe : describe.skip;
const logger = pino({ level: 'silent' });

async function query<T>(url: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

asRoot('the embedded PostgreSQL as root, from folders only root may enter', () => {
  let privateDir: string;
  let hostDir: string;
  let packageCopy: string;
  let dataDir: string;
  const running: EmbeddedPostgres[] = [];

  beforeAll(async () => {
    privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-root-'));
    expect(fs.statSync(privateDir).mode & 0o777).toBe(0o700);
    // The package as `npm ci` leaves it in a checkout under /root: binaries, libraries, symlinks.
    const installed = path.dirname((await packageBinaries()).dir);
    packageCopy = path.join(privateDir, 'checkout', 'node_modules', path.basename(installed));
    fs.cpSync(installed, packageCopy, { recursive: true, verbatimSymlinks: true });
    hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-host-'));
    dataDir = path.join(privateDir, 'checkout', '.data');
  });

  afterAll(async () => {
    for (const pg of running) await pg.stop();
    fs.rmSync(privateDir, { recursive: true, force: true });
    fs.rmSync(hostDir, { recursive: true, force: true });
  });

  const start = async (settings: string[] = []) => {
    const pg = await startEmbeddedPostgres(dataDir, logger, { binaryPackage: packageCopy, hostDir, settings });
    running.push(pg);
    return pg;
  };
  const stop = async (pg: EmbeddedPostgres) => {
    await pg.stop();
    running.splice(running.indexOf(pg), 1);
  };

  it('starts from a copy of the binaries and keeps the data where PostgreSQL can reach it', async () => {
    const pg = await start();
    expect(pg.clusterDir.startsWith(path.join(hostDir, 'data'))).toBe(true);
    expect(pg.outsideDataDir).toBe(`the postgres user cannot enter ${dataDir}`);
    expect(fs.readFileSync(path.join(path.dirname(pg.clusterDir), 'DATA_DIR'), 'utf8').trim()).toBe(fs.realpathSync(dataDir));
    const copies = fs.readdirSync(path.join(hostDir, 'postgres'));
    expect(copies).toEqual([expect.stringMatching(/^embedded-postgres\+[\w-]+@\d/)]);
    // The library symlinks came along as links.
    const lib = path.join(hostDir, 'postgres', copies[0]!, 'lib');
    expect(fs.readdirSync(lib).some((f) => fs.lstatSync(path.join(lib, f)).isSymbolicLink())).toBe(true);

    const [who] = await query<{ user: string; encoding: string }>(pg.url, "SELECT current_user AS user, pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = 'billing'");
    expect(who).toEqual({ user: 'billing', encoding: 'UTF8' });
    await query(pg.url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    // The password stays in DATA_DIR, readable by root alone.
    expect(fs.statSync(path.join(dataDir, 'postgres.password')).mode & 0o777).toBe(0o600);
    await stop(pg);
  });

  it('starts again on the same data, password and port', async () => {
    const port = Number(fs.readFileSync(path.join(dataDir, 'postgres.port'), 'utf8'));
    const pg = await start();
    expect(pg.port).toBe(port);
    expect(await query(pg.url, 'SELECT n FROM kept')).toEqual([{ n: 42 }]);
    await stop(pg);
  });

  it('moves a database PostgreSQL can no longer reach instead of starting an empty one', async () => {
    const parent = fs.mkdtempSync(path.join(privateDir, 'moved-'));
    fs.chmodSync(parent, 0o755);
    fs.chmodSync(privateDir, 0o755);
    const movedDataDir = path.join(parent, 'data');
    let log = '';
    const capture = pino({ level: 'info' }, { write: (line: string) => void (log += line) });
    const inPlace = await startEmbeddedPostgres(movedDataDir, capture, { binaryPackage: packageCopy, hostDir });
    expect(inPlace.clusterDir).toBe(path.join(movedDataDir, 'postgres'));
    await query(inPlace.url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)');
    await inPlace.stop();

    fs.chmodSync(privateDir, 0o700);
    const moved = await startEmbeddedPostgres(movedDataDir, capture, { binaryPackage: packageCopy, hostDir });
    running.push(moved);
    expect(moved.clusterDir.startsWith(path.join(hostDir, 'data'))).toBe(true);
    expect(fs.existsSync(path.join(movedDataDir, 'postgres'))).toBe(false);
    expect(log).toContain("moved the embedded database where PostgreSQL's user can reach it");
    expect(await query(moved.url, 'SELECT n FROM kept')).toEqual([{ n: 7 }]);
    await stop(moved);
  });

  it('says in one line why the server did not start', async () => {
    const err = await start(['max_connections=many']).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.name).toBe('EmbeddedPostgresError');
    expect(err?.message).toMatch(/PostgreSQL exited while starting .*max_connections/);
    expect(err?.message).not.toContain('\n');
  });
});
