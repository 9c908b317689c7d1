import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/** Asks the kernel for a free port; 5432 is usually taken by a system PostgreSQL. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

const PORT_FILE = 'postgres.port';

export function parsePort(text: string | null): number | undefined {
  const port = Number(text?.trim());
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

export interface PortChoice {
  port: number;
  /** The kept port, when it was taken and this start moved to another. */
  moved?: number;
}

/**
 * The embedded server's port, kept in DATA_DIR so that a saved psql or BI connection keeps
 * working: the kept one while it is free, else a new one, which is kept from then on.
 */
export async function keptPort(dataDir: string, avoid: number[] = []): Promise<PortChoice> {
  const file = path.join(dataDir, PORT_FILE);
  const kept = parsePort(await fs.readFile(file, 'utf8').catch(() => null));
  if (kept !== undefined && !avoid.includes(kept) && (await isPortFree(kept))) return { port: kept };
  let port = await freePort();
  while (avoid.includes(port)) port = await freePort();
  await fs.writeFile(file, `${port}\n`, { mode: 0o644 });
  return kept === undefined ? { port } : { port, moved: kept };
}
