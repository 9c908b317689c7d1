// Prints every scenario's figures together at the end of the run, then stops PostgreSQL.
import fs from 'node:fs/promises';
import path from 'node:path';
import stopPostgres from '../../support/global-teardown.mjs';

async function summary(runDir) {
  const dir = path.join(runDir, 'figures');
  const files = (await fs.readdir(dir).catch(() => [])).filter((f) => f.endsWith('.json')).sort();
  const all = [];
  for (const f of files) all.push(JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')));
  if (all.length === 0) return;
  const lines = ['', 'fault-injection figures', ''];
  for (const s of all) {
    lines.push(`${s.scenario}  (${s.seconds} s)`);
    for (const [k, v] of Object.entries(s.figures)) lines.push(`  ${k.padEnd(54)} ${v}`);
  }
  lines.push('', `all figures: ${path.join(runDir, 'figures.json')}`, '');
  await fs.writeFile(path.join(runDir, 'figures.json'), JSON.stringify(all, null, 2));
  process.stdout.write(lines.join('\n'));
}

export default async function globalTeardown() {
  const runDir = process.env.FAULTS_RUN_DIR;
  if (runDir) await summary(runDir);
  await stopPostgres();
}
