import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Debian's chromium (apt-get install chromium; .ci/run installs it when missing), driven by
 * playwright-core: no browser is ever downloaded. The machine's network is closed, so everything
 * that would reach out (updates, sync, QUIC probes) is switched off, and each launch gets a fresh
 * profile directory.
 */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-page-chromium-'));
  const args = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  // Chromium's sandbox needs user namespaces that root in a container does not get.
  if (process.getuid?.() === 0) args.unshift('--no-sandbox');
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where each case's screenshot is kept: the test output folder (BILLING_PAGE_SCREENSHOTS to move it). */
export const SCREENSHOTS = path.resolve(process.env['BILLING_PAGE_SCREENSHOTS'] ?? path.join(__dirname, '../../test-results/billing-page'));
