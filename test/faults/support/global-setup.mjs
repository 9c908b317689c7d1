// The normal suite's PostgreSQL, plus what the fault scenarios share: a directory for every log
// the product writes during the run, and secrets made for this run only, so the last scenario can
// search those logs for their values.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import startPostgres from '../../support/global-setup.mjs';

const token = (n) => randomBytes(n).toString('hex');

export default async function globalSetup() {
  // The test process talks to SQS with the same SDK; its Node 20 notice is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  await startPostgres();
  const runDir = await fs.mkdtemp(path.join(os.tmpdir(), 'billing-faults-'));
  await fs.chmod(runDir, 0o755);
  await fs.mkdir(path.join(runDir, 'logs'));
  await fs.mkdir(path.join(runDir, 'figures'));
  process.env.FAULTS_RUN_DIR = runDir;
  process.env.FAULTS_WEBHOOK_SECRET = `whsec_${token(24)}`;
  process.env.FAULTS_STRIPE_KEY = `rk_test_${token(24)}`;
  process.env.FAULTS_SMTP_PASSWORD = `smtp-${token(16)}`;
  process.stdout.write(`\nfault-injection run: logs and figures under ${runDir}\n`);
}
