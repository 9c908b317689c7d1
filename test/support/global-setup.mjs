// Starts one embedded PostgreSQL for the whole run (or uses DATABASE_URL); each test file creates
// its own database in it, so files run in parallel without sharing rows. The server is started by
// the product's own code, from the build (`npm test` builds first), so the suite runs wherever
// `npm start` does: as root, it places the server where PostgreSQL's user can reach it.
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const built = path.join(root, 'dist/src/embedded/embedded-postgres.js');

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.TEST_PG_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  if (!(await fs.stat(built).catch(() => null))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  const { startEmbeddedPostgres } = require(built);
  const pino = require('pino');
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'billing-test-pg-'));
  // Enterable, so the throwaway cluster stays in the temp folder even when we are root.
  await fs.chmod(base, 0o755);
  const pg = await startEmbeddedPostgres(base, pino({ level: 'warn' }), {
    settings: ['max_connections=300', 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off'],
  });
  globalThis.__BILLING_TEST_PG__ = { pg, base };
  process.env.TEST_PG_ADMIN_URL = pg.url;
}
