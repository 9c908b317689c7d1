import { randomBytes } from 'node:crypto';
import { types } from 'node:util';
import { Client, DatabaseError, escapeIdentifier, escapeLiteral, Pool } from 'pg';
import { createDataSource } from '../../src/db/data-source';
import { isConnectionError } from '../../src/db/connection-errors';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { TcpProxy, viaProxy } from '../support/tcp-proxy';
import { sleep } from '../support/wait';

/**
 * The worker stops taking messages while the database is unreachable, and retries a batch one
 * message at a time only when the database, not the batch, failed. These are the failures pg,
 * pg-pool and TypeORM really raise, from a real server behind a proxy that can break the network.
 */

let db: TestDatabase;
let proxy: TcpProxy;
let proxiedUrl: string;
const open: { end(): Promise<void> }[] = [];

beforeAll(async () => {
  db = await createTestDatabase(2);
  const u = new URL(db.url);
  proxy = new TcpProxy(u.hostname, Number(u.port));
  proxiedUrl = viaProxy(db.url, await proxy.start());
});
afterEach(async () => {
  await proxy.restore();
  await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
});
afterAll(async () => {
  await proxy?.stop();
  await db?.drop();
});

function client(url: string, extra: Record<string, unknown> = {}): Client {
  const c = new Client({ connectionString: url, ...extra });
  // A socket that fails later is reported as an 'error' event as well; the query's rejection is what is tested.
  c.on('error', () => undefined);
  open.push(c);
  return c;
}

function pool(url: string, extra: Record<string, unknown> = {}): Pool {
  const p = new Pool({ connectionString: url, ...extra });
  p.on('error', () => undefined);
  open.push(p);
  return p;
}

async function failureOf(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (err) {
    // Node's own socket errors come from outside jest's realm, so `instanceof Error` cannot tell.
    expect(types.isNativeError(err)).toBe(true);
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('the database unreachable', () => {
  it('a refused connection (nothing listening): ECONNREFUSED', async () => {
    await proxy.refuse();
    const err = await failureOf(client(proxiedUrl).connect());
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(isConnectionError(err)).toBe(true);
  });

  it('a host that does not resolve: ENOTFOUND or EAI_AGAIN', async () => {
    const u = new URL(db.url);
    u.hostname = 'no-such-host.invalid';
    const err = await failureOf(client(u.toString()).connect());
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain((err as NodeJS.ErrnoException).code);
    expect(isConnectionError(err)).toBe(true);
  });

  it('a connection closed as soon as it opens (a crashed server behind a live host)', async () => {
    proxy.cut();
    const err = await failureOf(client(proxiedUrl).connect());
    expect(err.message).toMatch(/^Connection terminated/);
    expect(isConnectionError(err)).toBe(true);
  });

  it('a connection cut during a query, and the same client queried again', async () => {
    const c = client(proxiedUrl);
    await c.connect();
    const running = failureOf(c.query('SELECT pg_sleep(10)'));
    await sleep(200);
    proxy.cutOpen();
    const err = await running;
    expect(isConnectionError(err)).toBe(true);
    const again = await failureOf(c.query('SELECT 1'));
    expect(again.message).toMatch(/not queryable/);
    expect(isConnectionError(again)).toBe(true);
  });

  it('a connection cut under TypeORM, which wraps the query failure', async () => {
    const ds = createDataSource({ url: proxiedUrl, poolSize: 1 });
    await ds.initialize();
    open.push({ end: () => ds.destroy() });
    const running = failureOf(ds.query('SELECT pg_sleep(10)'));
    await sleep(200);
    proxy.cutOpen();
    const err = await running;
    expect(err.name).toBe('QueryFailedError');
    expect(isConnectionError(err)).toBe(true);
  });

  it('a server that does not answer within connectionTimeoutMillis (pg-pool)', async () => {
    proxy.delay(1500);
    const err = await failureOf(pool(proxiedUrl, { connectionTimeoutMillis: 300 }).query('SELECT 1'));
    expect(err.message).toMatch(/connection timeout/);
    expect(isConnectionError(err)).toBe(true);
  });

  it('a pool with no connection free within connectionTimeoutMillis (pg-pool)', async () => {
    const p = pool(db.url, { max: 1, connectionTimeoutMillis: 200 });
    const held = await p.connect();
    try {
      const err = await failureOf(p.query('SELECT 1'));
      expect(err.message).toBe('timeout exceeded when trying to connect');
      expect(isConnectionError(err)).toBe(true);
    } finally {
      held.release();
    }
  });

  it('a query that hears nothing back within query_timeout (pg)', async () => {
    const c = client(proxiedUrl, { query_timeout: 300 });
    await c.connect();
    proxy.delay(1500);
    const err = await failureOf(c.query('SELECT 1'));
    expect(err.message).toBe('Query read timeout');
    expect(isConnectionError(err)).toBe(true);
  });

  it('a session the server terminates (57P01 admin_shutdown)', async () => {
    const victim = client(db.url);
    await victim.connect();
    const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const running = failureOf(victim.query('SELECT pg_sleep(10)'));
    await sleep(200);
    await db.ds.query('SELECT pg_terminate_backend($1)', [pid]);
    const err = await running;
    expect((err as DatabaseError).code).toBe('57P01');
    expect(isConnectionError(err)).toBe(true);
  });

  it('a server out of connection slots for the role (53300 too_many_connections)', async () => {
    const role = `full_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    // DDL takes no bind parameters: the name and password are quoted by pg instead.
    await db.ds.query(`CREATE ROLE ${escapeIdentifier(role)} LOGIN CONNECTION LIMIT 0 PASSWORD ${escapeLiteral(password)}`);
    try {
      const u = new URL(db.url);
      u.username = role;
      u.password = password;
      const err = await failureOf(client(u.toString()).connect());
      expect((err as DatabaseError).code).toBe('53300');
      expect(isConnectionError(err)).toBe(true);
    } finally {
      await db.ds.query(`DROP ROLE ${escapeIdentifier(role)}`);
    }
  });

  // Not practical to provoke on a shared test server: a crash, a server still starting, a broken
  // protocol. pg raises them as DatabaseError with the SQLSTATE the server sent.
  it.each(['57P02', '57P03', '08000', '08003', '08006', '08P01'])('SQLSTATE %s from the server', (code) => {
    const err = new DatabaseError('the server said so', 0, 'error');
    err.code = code;
    expect(isConnectionError(err)).toBe(true);
  });

  it.each(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH'])('a socket error %s', (code) => {
    expect(isConnectionError(Object.assign(new Error(`connect ${code}`), { code }))).toBe(true);
  });

  it('a socket error kept as the cause of a wrapping error', () => {
    const socket = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(isConnectionError(new Error('could not store the event', { cause: socket }))).toBe(true);
  });
});

describe('the statement or the data at fault', () => {
  it.each([
    ['a syntax error (42601)', 'SELEC 1', '42601'],
    ['a division by zero (22012)', 'SELECT 1 / 0', '22012'],
    ['a missing table (42P01)', 'SELECT * FROM no_such_table', '42P01'],
  ])('%s', async (_name, sql, code) => {
    const err = await failureOf(db.ds.query(sql));
    expect((err as DatabaseError).code).toBe(code);
    expect(isConnectionError(err)).toBe(false);
  });

  it('a statement cancelled by statement_timeout (57014): the statement, not the server', async () => {
    const c = client(db.url, { statement_timeout: 100 });
    await c.connect();
    const err = await failureOf(c.query('SELECT pg_sleep(2)'));
    expect((err as DatabaseError).code).toBe('57014');
    expect(isConnectionError(err)).toBe(false);
  });

  it('an error of our own, or a value that is not an Error', () => {
    expect(isConnectionError(new Error('invoice in_1 has no customer'))).toBe(false);
    expect(isConnectionError(new Error('event evt_1: Connection terminated'))).toBe(false);
    expect(isConnectionError('Connection terminated unexpectedly')).toBe(false);
    expect(isConnectionError({ code: 'ECONNREFUSED' })).toBe(false);
    expect(isConnectionError(null)).toBe(false);
  });
});
