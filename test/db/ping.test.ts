// The consumer's database gate holds polling until a ping answers: a ping must fail while the
// database is out of reach and succeed as soon as it is back.
import { Writable } from 'node:stream';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { DatabaseGate } from '../../src/consume/database-gate';
import { createDataSource } from '../../src/db/data-source';
import { isConnectionError } from '../../src/db/connection-errors';
import { ping } from '../../src/db/ping';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { TcpProxy, viaProxy } from '../support/tcp-proxy';

let db: TestDatabase;
let proxy: TcpProxy;
let proxied: DataSource;

beforeAll(async () => {
  db = await createTestDatabase(2);
  const u = new URL(db.url);
  proxy = new TcpProxy(u.hostname, Number(u.port));
  await proxy.start();
  proxied = createDataSource({ url: viaProxy(db.url, proxy.port), poolSize: 1 });
  await proxied.initialize();
});

afterAll(async () => {
  await proxy?.restore();
  if (proxied?.isInitialized) await proxied.destroy();
  await proxy?.stop();
  await db?.drop();
});

it('answers on a reachable database', async () => {
  await expect(ping(db.ds)).resolves.toBeUndefined();
});

it('fails with a connection error while the database refuses connections, and the gate waits for it', async () => {
  await proxy.refuse();
  const err: unknown = await ping(proxied).then(
    () => null,
    (e: unknown) => e,
  );
  expect(isConnectionError(err)).toBe(true);

  const messages: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) messages.push((JSON.parse(l) as { msg: string }).msg);
      done();
    },
  });
  const gate = new DatabaseGate(proxied, pino(sink), 100);
  gate.markDown();
  let up = false;
  const waiting = gate.waitUntilUp().then(() => (up = true));
  await new Promise((resolve) => setTimeout(resolve, 400));
  expect(up).toBe(false);

  await proxy.restore();
  await waiting;
  expect(messages).toEqual(['database unreachable; pausing the queue until it answers', 'database reachable again; resuming the queue']);
  gate.close();
});
