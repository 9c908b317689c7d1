import { placeServer, type PlacementFacts } from '../../src/embedded/server-placement';
import { execFileSync } from 'node:child_process';
import { createSystemUser, NoServerUserError, pickServerUser } from '../../src/embedded/server-user';
import { reasonFrom } from '../../src/embedded/postgres-server';

const facts = (f: Partial<PlacementFacts>): PlacementFacts => ({
  clusterInDataDir: false,
  clusterInHostDir: false,
  dataDirReachable: true,
  binariesReachable: true,
  ...f,
});

describe('where the embedded PostgreSQL runs from, as root', () => {
  it('leaves everything in place when its user can reach it', () => {
    expect(placeServer(facts({}))).toEqual({ binaries: 'package', data: 'data-dir' });
  });

  it('copies binaries its user cannot run, independently of the data', () => {
    expect(placeServer(facts({ binariesReachable: false }))).toEqual({ binaries: 'copy', data: 'data-dir' });
  });

  it('puts a new cluster in the host folder when DATA_DIR cannot be entered', () => {
    expect(placeServer(facts({ dataDirReachable: false })).data).toBe('host-dir');
  });

  it('keeps using the host folder once the data is there, even if DATA_DIR becomes reachable', () => {
    expect(placeServer(facts({ clusterInHostDir: true, dataDirReachable: true })).data).toBe('host-dir');
    expect(placeServer(facts({ clusterInHostDir: true, clusterInDataDir: true })).data).toBe('host-dir');
  });

  it('moves an existing cluster its user can no longer reach instead of starting an empty one', () => {
    expect(placeServer(facts({ clusterInDataDir: true, dataDirReachable: false })).data).toBe('move-to-host-dir');
    expect(placeServer(facts({ clusterInDataDir: true, dataDirReachable: true })).data).toBe('data-dir');
  });
});

describe('the user PostgreSQL runs as, when we are root', () => {
  const postgres = { name: 'postgres', uid: 101, gid: 104 };
  const nobody = { name: 'nobody', uid: 65534, gid: 65534 };
  const app = { name: 'app', uid: 1000, gid: 1000 };

  it('is postgres, without comment, when it exists', () => {
    expect(pickServerUser({ postgres })).toEqual({ user: postgres });
  });

  it('is never nobody, whose files other services running as nobody could read', () => {
    expect(() => pickServerUser({})).toThrow(NoServerUserError);
  });

  it("is an existing cluster's owner, whom PostgreSQL insists on", () => {
    expect(pickServerUser({ clusterOwner: nobody, postgres }).user).toEqual(nobody);
    expect(pickServerUser({ clusterOwner: app, postgres }).note).toMatch(/app, the owner of its data/);
    expect(pickServerUser({ clusterOwner: postgres, postgres })).toEqual({ user: postgres });
  });

  it('never root, even when root owns a cluster', () => {
    expect(pickServerUser({ clusterOwner: { name: 'root', uid: 0, gid: 0 }, postgres }).user).toEqual(postgres);
  });

  it('fails with one line naming the fix when there is no one to run as', () => {
    expect(() => pickServerUser({})).toThrow(NoServerUserError);
    const message = new NoServerUserError().message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/useradd --system postgres/);
    expect(message).toMatch(/DATABASE_URL/);
  });
});

describe("PostgreSQL's reason, in one line", () => {
  it('keeps the FATAL lines of its output', () => {
    const out = '2025-01-01 LOG:  starting\n2025-01-01 FATAL:  could not bind IPv4 address\n2025-01-01 LOG:  database system is shut down\n';
    expect(reasonFrom(out)).toBe('2025-01-01 FATAL:  could not bind IPv4 address');
  });

  it('falls back to its last lines', () => {
    expect(reasonFrom('a\nb\nc\n')).toBe('b; c');
    expect(reasonFrom('')).toBe('no output');
  });
});

describe('a system without a postgres user', () => {
  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('gets a system user created with the system\'s own tool: no home, no login shell', async () => {
    const name = `billingpg${process.pid % 100000}`;
    try {
      const user = await createSystemUser(name);
      expect(user).toMatchObject({ name });
      expect(user!.uid).toBeGreaterThan(0);
      const entry = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
      expect(entry[5]).toBe('/nonexistent');
      expect(entry[6]).toMatch(/nologin$/);
    } finally {
      try {
        execFileSync('userdel', [name], { stdio: 'ignore' });
      } catch {
        // Not created: nothing to remove.
      }
    }
  });
});
