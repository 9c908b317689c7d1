import fs from 'node:fs/promises';
import path from 'node:path';

export default async function globalTeardown() {
  const state = globalThis.__BILLING_TEST_PG__;
  if (!state) return;
  await state.pg.stop();
  await fs.rm(state.base, { recursive: true, force: true });
  // Placed outside the temp folder (PostgreSQL's user could not enter it): its folder there too.
  if (state.pg.outsideDataDir) await fs.rm(path.dirname(state.pg.clusterDir), { recursive: true, force: true });
}
