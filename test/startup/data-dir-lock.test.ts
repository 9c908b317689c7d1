import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireDataDirLock, DataDirLock, describeCommand, inUseMessage, LOCK_FILE, readDataDirLock, type LockHolder } from '../../src/embedded/data-dir-lock';
import { accessHeldDatabase } from '../../src/embedded/held-database';
import { identityOf, isRunning, ownIdentity, sameProcess, startTicksFromStat } from '../../src/embedded/process-identity';

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-lock-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A pid that no process has: one that just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const holder = (over: Partial<LockHolder>): LockHolder => ({
  pid: 1,
  command: 'billing dev',
  startedAt: '2025-01-01T00:00:00.000Z',
  token: 'abc',
  shared: true,
  ...over,
});

const acquired = async (dir: string, shared = true) => {
  const r = await acquireDataDirLock(dir, { shared, argv: ['node', '/app/dist/src/cli.js', 'dev'] });
  if (!('lock' in r)) throw new Error(`expected the lock, got ${JSON.stringify(r.holder)}`);
  return r;
};

describe('the DATA_DIR lock', () => {
  it('is taken once; a second taker learns who has it', async () => {
    const dir = tempDir();
    const { lock } = await acquired(dir);
    const second = await acquireDataDirLock(dir, { shared: true });
    expect('holder' in second && second.holder.pid).toBe(process.pid);
    expect('holder' in second && second.holder.command).toBe('billing dev');
    await lock.release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    expect('lock' in (await acquireDataDirLock(dir, { shared: true }))).toBe(true);
  });

  it('records pid, command, start time and process start, and publishes the database port', async () => {
    const dir = tempDir();
    const { lock } = await acquired(dir);
    await lock.update({ postgresPort: 54321 });
    const written = JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as LockHolder;
    expect(written).toMatchObject({ pid: process.pid, command: 'billing dev', shared: true, postgresPort: 54321 });
    expect(Date.parse(written.startedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(written.startTicks).toBe(ownIdentity().startTicks);
    expect(await readDataDirLock(dir)).toMatchObject({ pid: process.pid, postgresPort: 54321 });
    await lock.release();
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dir = tempDir();
    const stale = holder({ pid: deadPid(), command: 'billing dev', token: 'stale' });
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(stale));
    expect(await readDataDirLock(dir)).toBeNull();
    const r = await acquired(dir);
    expect(r.tookOverFrom?.pid).toBe(stale.pid);
    expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await r.lock.release();
  });

  it('takes over a lock whose pid now belongs to another process (same pid, other start time)', async () => {
    const dir = tempDir();
    const me = ownIdentity();
    if (me.startTicks === undefined) return; // no /proc: only the pid can be compared
    const reused = holder({ ...me, startTicks: String(Number(me.startTicks) + 1), token: 'old' });
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(reused));
    const r = await acquired(dir);
    expect(r.tookOverFrom?.token).toBe('old');
    await r.lock.release();
  });

  it('takes over an unreadable lock once it is clearly not being written', async () => {
    const dir = tempDir();
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, '');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(file, old, old);
    const r = await acquired(dir);
    await r.lock.release();
  });

  it('releases only its own lock', async () => {
    const dir = tempDir();
    const { lock } = await acquired(dir);
    const other = holder({ ...identityOf(process.ppid), token: 'theirs' });
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(other));
    await lock.release();
    expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).token).toBe('theirs');
  });

  it('lets exactly one of many simultaneous takers have it, also over a stale lock, round after round', async () => {
    // A race shows only now and then: many rounds, each over a fresh stale lock.
    const dead = deadPid();
    for (let round = 0; round < 200; round++) {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(holder({ pid: dead, token: `stale-${round}` })));
      const results = await Promise.all(Array.from({ length: 8 }, () => acquireDataDirLock(dir, { shared: true })));
      const winners = results.filter((r): r is { lock: DataDirLock } => 'lock' in r);
      expect(winners).toHaveLength(1);
      // What is on disk is the winner's, and no takeover file is left behind.
      expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).token).toBe(winners[0]!.lock.token);
      expect(fs.readdirSync(dir).filter((f) => f !== LOCK_FILE)).toEqual([]);
      await winners[0]!.lock.release();
    }
  });

  it('passes over a takeover abandoned by a process that died holding it', async () => {
    const dir = tempDir();
    const stale = JSON.stringify(holder({ pid: deadPid(), token: 'stale' }));
    fs.writeFileSync(path.join(dir, LOCK_FILE), stale);
    const key = createHash('sha256').update(stale).digest('hex').slice(0, 16);
    fs.writeFileSync(path.join(dir, `${LOCK_FILE}.takeover-${key}-0`), JSON.stringify(holder({ pid: deadPid(), token: 'died-taking-over' })));
    const r = await acquireDataDirLock(dir, { shared: true });
    expect('lock' in r).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([LOCK_FILE]);
  });
});

describe('which process is which', () => {
  it('reads the start time from /proc/<pid>/stat, whatever the command name holds', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    expect(startTicksFromStat(`123 (a (b) c) ${fields.join(' ')}`)).toBe('22');
  });

  it('treats another boot or another start time as another process', () => {
    const recorded = { pid: 5, startTicks: '100', bootId: 'boot-a' };
    expect(sameProcess(recorded, { exists: true, startTicks: '100', bootId: 'boot-a' })).toBe(true);
    expect(sameProcess(recorded, { exists: true, startTicks: '101', bootId: 'boot-a' })).toBe(false);
    expect(sameProcess(recorded, { exists: true, startTicks: '100', bootId: 'boot-b' })).toBe(false);
    expect(sameProcess(recorded, { exists: false })).toBe(false);
    // Without /proc, the pid alone.
    expect(sameProcess({ pid: 5 }, { exists: true })).toBe(true);
  });

  it('knows this process is running and a finished one is not', () => {
    expect(isRunning(ownIdentity())).toBe(true);
    expect(isRunning({ pid: deadPid() })).toBe(false);
  });
});

describe('what a process does when another holds DATA_DIR', () => {
  it("lets one-off commands use a long-running process's database once it is up", () => {
    expect(accessHeldDatabase('command', { shared: true, postgresPort: 5 })).toBe('share');
    expect(accessHeldDatabase('command', { shared: true })).toBe('wait');
  });

  it("refuses a one-off command's server, which ends with that command", () => {
    expect(accessHeldDatabase('command', { shared: false, postgresPort: 5 })).toBe('refuse');
  });

  it('refuses any second long-running process', () => {
    expect(accessHeldDatabase('service', { shared: true, postgresPort: 5 })).toBe('refuse');
    expect(accessHeldDatabase('service', { shared: false })).toBe('refuse');
  });

  it('says so in one line naming the folder and the process', () => {
    const shared = inUseMessage('/srv/data', holder({ pid: 4242 }));
    expect(shared).toBe('DATA_DIR /srv/data is in use by pid 4242 (billing dev, running since 2025-01-01T00:00:00.000Z); stop it first, or give this process another DATA_DIR');
    const oneOff = inUseMessage('/srv/data', holder({ pid: 4243, command: 'billing import --since 2025-01-01', shared: false }));
    expect(oneOff).toMatch(/pid 4243 \(billing import --since 2025-01-01, .*its own embedded PostgreSQL until it ends/);
    expect(oneOff).not.toContain('\n');
  });

  it('names the command as it was typed', () => {
    expect(describeCommand(['/usr/bin/node', '/app/dist/src/cli.js', 'stats', '--json'])).toBe('billing stats --json');
    expect(describeCommand(['/usr/bin/node', '/app/node_modules/.bin/billing', 'dev'])).toBe('billing dev');
    expect(describeCommand(['/usr/bin/node', '/app/node_modules/.bin/jest', 'x'])).toBe('node jest x');
  });
});
