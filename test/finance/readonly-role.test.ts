import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { readonlyRoleSql } from '../../migrations/1764028800000-FinanceViews';
import { createDataSource, runMigrations } from '../../src/db/data-source';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { insertInvoice } from './rows';

// Roles are shared by every database in the test server, and other files migrate in parallel:
// tests here never drop billing_readonly, and use roles of their own for what would.
const hex = () => randomBytes(5).toString('hex');
const adminUrl = () => process.env['TEST_PG_ADMIN_URL']!;

function urlFor(database: string, user?: { name: string; password: string }): string {
  const u = new URL(adminUrl());
  u.pathname = `/${database}`;
  if (user) {
    u.username = user.name;
    u.password = user.password;
  }
  return u.toString();
}

async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await connect(adminUrl());
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db.drop();
});

describe('billing_readonly', () => {
  it('exists, cannot log in, reads every table and view, and cannot write', async () => {
    const id = await insertInvoice(db.ds);
    const [role]: { rolcanlogin: boolean }[] = await db.ds.query(`SELECT rolcanlogin FROM pg_roles WHERE rolname = 'billing_readonly'`);
    expect(role).toEqual({ rolcanlogin: false });
    const c = await connect(db.url);
    try {
      await c.query('SET ROLE billing_readonly');
      const money = ['finance_payments', 'finance_credit_notes', 'finance_invoice_charges', 'invoice_payments', 'charges', 'refunds', 'credit_notes'];
      for (const relation of ['finance_invoices', 'receivables_aging', 'overdue_invoices', 'invoices', 'stripe_events', 'email_notices', 'billing_contacts', ...money]) {
        await expect(c.query(`SELECT count(*) FROM ${relation}`)).resolves.toBeDefined();
      }
      const read = await c.query(`SELECT invoice_id FROM finance_invoices WHERE invoice_id = $1`, [id]);
      expect(read.rows).toEqual([{ invoice_id: id }]);
      await expect(c.query(`SELECT * FROM finance_receivables_aging_as_of(now())`)).resolves.toBeDefined();
      await expect(c.query(`SELECT * FROM finance_open_invoices_as_of(now())`)).resolves.toBeDefined();
      for (const write of [
        `INSERT INTO invoices (stripe_invoice_id, status, amount_cents, amount_paid_cents, amount_remaining_cents, total_cents, livemode, last_event_id, last_event_created_at)
         VALUES ('in_readonly', 'open', 1, 0, 1, 1, false, 'evt_x', now())`,
        `UPDATE invoices SET amount_paid_cents = 0 WHERE stripe_invoice_id = '${id}'`,
        `DELETE FROM email_notices`,
        `CREATE TABLE sneaky (id int)`,
      ]) {
        await expect(c.query(write)).rejects.toMatchObject({ code: '42501' });
      }
    } finally {
      await c.end();
    }
  });

  it('reads tables that later migrations create, without another grant', async () => {
    await db.ds.query(`CREATE TABLE later_migration_table (id int)`);
    const [r]: { can: boolean }[] = await db.ds.query(`SELECT has_table_privilege('billing_readonly', 'later_migration_table', 'SELECT') AS can`);
    expect(r!.can).toBe(true);
  });

  it('is how a person with their own login reads the views', async () => {
    const user = { name: `finance_reader_${hex()}`, password: hex() };
    await admin((c) => c.query(`CREATE ROLE ${user.name} LOGIN PASSWORD '${user.password}' IN ROLE billing_readonly`));
    try {
      const c = await connect(urlFor(new URL(db.url).pathname.slice(1), user));
      try {
        await expect(c.query(`SELECT * FROM receivables_aging`)).resolves.toBeDefined();
        await expect(c.query(`DELETE FROM invoices`)).rejects.toMatchObject({ code: '42501' });
      } finally {
        await c.end();
      }
    } finally {
      await admin((c) => c.query(`DROP ROLE ${user.name}`));
    }
  });
});

describe('migrating as a user who may not create roles', () => {
  const owner = { name: `billing_owner_${hex()}`, password: hex() };
  const database = `billing_test_owner_${hex()}`;
  beforeAll(async () => {
    await admin(async (c) => {
      await c.query(`CREATE ROLE ${owner.name} LOGIN NOCREATEROLE NOSUPERUSER PASSWORD '${owner.password}'`);
      await c.query(`CREATE DATABASE ${database} OWNER ${owner.name}`);
    });
  });
  afterAll(async () => {
    await admin(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${owner.name}`);
    });
  });

  it('applies every migration and grants to the role an administrator created', async () => {
    const ds = createDataSource({ url: urlFor(database, owner), poolSize: 2 });
    await ds.initialize();
    try {
      const applied = await runMigrations(ds);
      expect(applied).toContain('FinanceViews1764028800000');
      const [r]: { can: boolean }[] = await ds.query(`SELECT has_table_privilege('billing_readonly', 'finance_invoices', 'SELECT') AS can`);
      expect(r!.can).toBe(true);
    } finally {
      await ds.destroy();
    }
  });

  it('carries on with a notice naming the SQL to run when the role does not exist yet', async () => {
    const role = `billing_ro_${hex()}`;
    const c = await connect(urlFor(database, owner));
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(n.message ?? ''));
    try {
      await c.query(readonlyRoleSql(role));
    } finally {
      await c.end();
    }
    expect(notices).toEqual([expect.stringContaining(`role ${role} does not exist`)]);
    expect(notices[0]).toContain(`CREATE ROLE ${role} NOLOGIN`);
    const exists = await admin((a) => a.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [role]));
    expect(exists.rowCount).toBe(0);
  });
});

describe('creating the role from two databases at once', () => {
  const role = `billing_ro_${hex()}`;
  const databases = [`billing_test_race_${hex()}`, `billing_test_race_${hex()}`];
  beforeAll(async () => {
    for (const d of databases) {
      await admin((c) => c.query(`CREATE DATABASE ${d}`));
      const c = await connect(urlFor(d));
      await c.query(`CREATE TABLE t (id int)`);
      await c.end();
    }
  });
  afterAll(async () => {
    await admin(async (c) => {
      for (const d of databases) await c.query(`DROP DATABASE IF EXISTS ${d} WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${role}`);
    });
  });

  it('lets the loser of the race use the winner’s role, and runs again without error', async () => {
    const [a, b] = await Promise.all(databases.map((d) => connect(urlFor(d))));
    try {
      await a!.query('BEGIN');
      await a!.query(readonlyRoleSql(role));
      await b!.query('BEGIN');
      const bPid: number = (await b!.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      // b's insert of the same role name waits on a's open transaction, then hits the unique index.
      const bDone = b!.query(readonlyRoleSql(role));
      await admin(async (c) => {
        for (let i = 0; i < 200; i++) {
          const w = await c.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [bPid]);
          if (w.rows[0]?.wait_event_type === 'Lock') return;
          await new Promise((r) => setTimeout(r, 25));
        }
        throw new Error('the second CREATE ROLE never waited on the first');
      });
      await a!.query('COMMIT');
      await bDone;
      await b!.query('COMMIT');
      for (const c of [a!, b!]) {
        const r = await c.query(`SELECT has_table_privilege($1, 't', 'SELECT') AS can`, [role]);
        expect(r.rows[0].can).toBe(true);
        await c.query(readonlyRoleSql(role));
      }
    } finally {
      await Promise.all([a!.end(), b!.end()]);
    }
  });
});

describe('down()', () => {
  let own: TestDatabase;
  beforeAll(async () => {
    own = await createTestDatabase(2);
  });
  afterAll(async () => {
    await own.drop();
  });

  const executed = async (): Promise<string[]> =>
    ((await own.ds.query(`SELECT name FROM migrations ORDER BY id`)) as { name: string }[]).map((m) => m.name);

  it('undoing the migrations after FinanceViews brings back its views, still readable by the role', async () => {
    const applied = await executed();
    const later = applied.slice(applied.indexOf('FinanceViews1764028800000') + 1);
    expect(later).toContain('AdoptionFixes1764806400000');
    for (let i = 0; i < later.length; i++) await own.ds.undoLastMigration({ transaction: 'each' });
    expect((await executed()).at(-1)).toBe('FinanceViews1764028800000');
    const columns: { column_name: string }[] = await own.ds.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'finance_invoices' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => c.column_name).at(-1)).toBe('livemode');
    // FinanceViews' own day count: started 24-hour periods.
    const [days]: { d: number }[] = await own.ds.query(`SELECT finance_days_past_due('2026-06-01T01:00:00Z', '2026-06-02T23:00:00Z') AS d`);
    expect(days!.d).toBe(2);
    const [r]: { can: boolean }[] = await own.ds.query(`SELECT has_table_privilege('billing_readonly', 'finance_invoices', 'SELECT') AS can`);
    expect(r!.can).toBe(true);
    expect(await runMigrations(own.ds)).toEqual(later);
  });

  it('drops the views and revokes here, keeps the role for other databases, and up() runs again', async () => {
    const applied = await executed();
    const fromFinanceViews = applied.slice(applied.indexOf('FinanceViews1764028800000'));
    for (let i = 0; i < fromFinanceViews.length; i++) await own.ds.undoLastMigration({ transaction: 'each' });
    const after: { views: number; grants: number; defaults: number; role: number }[] = await own.ds.query(
      `SELECT (SELECT count(*)::int FROM pg_views WHERE viewname IN ('finance_invoices', 'receivables_aging', 'overdue_invoices', 'finance_invoice_rows')) AS views,
              (SELECT count(*)::int FROM information_schema.role_table_grants WHERE grantee = 'billing_readonly') AS grants,
              (SELECT count(*)::int FROM pg_default_acl WHERE array_to_string(defaclacl, ',') LIKE '%billing_readonly=%') AS defaults,
              (SELECT count(*)::int FROM pg_roles WHERE rolname = 'billing_readonly') AS role`,
    );
    expect(after).toEqual([{ views: 0, grants: 0, defaults: 0, role: 1 }]);
    // Another database's grants are untouched.
    const [other]: { can: boolean }[] = await db.ds.query(`SELECT has_table_privilege('billing_readonly', 'finance_invoices', 'SELECT') AS can`);
    expect(other!.can).toBe(true);

    expect(await runMigrations(own.ds)).toEqual(fromFinanceViews);
    const [again]: { can: boolean }[] = await own.ds.query(`SELECT has_table_privilege('billing_readonly', 'finance_invoices', 'SELECT') AS can`);
    expect(again!.can).toBe(true);
  });
});
