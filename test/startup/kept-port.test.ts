import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/embedded/embedded-postgres';

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

async function answers(url: string): Promise<boolean> {
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.end();
  return true;
}

describe("the embedded PostgreSQL's port", () => {
  let dir: string;
  let log = '';
  const logger = pino({ level: 'info' }, { write: (line: string) => void (log += line) });
  const running: EmbeddedPostgres[] = [];
  const start = async () => {
    const pg = await startEmbeddedPostgres(dir, logger);
    running.push(pg);
    return pg;
  };
  const stop = async (pg: EmbeddedPostgres) => {
    await pg.stop();
    running.splice(running.indexOf(pg), 1);
  };
  const keptPort = () => Number(fs.readFileSync(path.join(dir, 'postgres.port'), 'utf8'));

  beforeAll(() => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-port-'));
    // Enterable, so that as root the cluster stays here: this is about the port alone.
    fs.chmodSync(parent, 0o755);
    dir = path.join(parent, 'data');
  });
  afterAll(async () => {
    for (const pg of running) await pg.stop();
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('is kept in DATA_DIR and used again at the next start', async () => {
    const first = await start();
    expect(keptPort()).toBe(first.port);
    await stop(first);
    const second = await start();
    expect(second.port).toBe(first.port);
    expect(second.url).toBe(first.url);
    await stop(second);
  });

  it('moves to a free one when the kept one is taken, says so, and keeps the new one', async () => {
    const kept = keptPort();
    const squatter = await listen(kept);
    let moved: EmbeddedPostgres;
    try {
      moved = await start();
    } finally {
      squatter.close();
    }
    expect(moved.port).not.toBe(kept);
    expect(keptPort()).toBe(moved.port);
    expect(await answers(moved.url)).toBe(true);
    const line = log.split('\n').find((l) => l.includes('port kept in DATA_DIR is taken'));
    expect(JSON.parse(line!)).toMatchObject({ level: 40, kept, port: moved.port });
    await stop(moved);

    // The kept port is free again, but the new one is what saved connections now use.
    const again = await start();
    expect(again.port).toBe(moved.port);
    await stop(again);
  });
});
