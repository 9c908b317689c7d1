import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** The signing secret of a local run: generated once, kept under the data dir (0600) and reused. */
export async function localWebhookSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'webhook-secret');
  const existing = (await fs.readFile(file, 'utf8').catch(() => '')).trim();
  if (/^whsec_[A-Za-z0-9_-]{20,}$/.test(existing)) return existing;
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
