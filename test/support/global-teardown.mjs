import fs from 'node:fs/promises';

export default async function globalTeardown() {
  const state = globalThis.__BILLING_TEST_PG__;
  if (!state) return;
  await state.pg.stop();
  await fs.rm(state.base, { recursive: true, force: true });
}
