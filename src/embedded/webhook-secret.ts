import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * A secret of a local run: generated once, kept in `file` under the data dir (0600) and reused.
 * Two processes starting together agree on one: the file is created exclusively, and the one that
 * finds it made reads it back. A file holding something unusable is replaced.
 */
async function localSecret(dataDir: string, name: string, valid: RegExp, make: () => string): Promise<string> {
  const file = path.join(dataDir, name);
  const read = async () => (await fs.readFile(file, 'utf8').catch(() => '')).trim();
  const existing = await read();
  if (valid.test(existing)) return existing;
  const secret = make();
  await fs.mkdir(dataDir, { recursive: true });
  if (existing === '') {
    try {
      await fs.writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      return secret;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const theirs = await read();
      if (valid.test(theirs)) return theirs;
    }
  }
  await fs.writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The webhook signing secret of a local run (`whsec_…`), printed by the banner. */
export function localWebhookSecret(dataDir: string): Promise<string> {
  return localSecret(dataDir, 'webhook-secret', /^whsec_[A-Za-z0-9_-]{20,}$/, () => `whsec_${randomBytes(32).toString('base64url')}`);
}

/** The billing page links' signing secret of a local run (PORTAL_SIGNING_SECRET unset); never printed. */
export function localPortalSecret(dataDir: string): Promise<string> {
  return localSecret(dataDir, 'portal-signing-secret', /^[A-Za-z0-9_-]{43,}$/, () => randomBytes(32).toString('base64url'));
}
