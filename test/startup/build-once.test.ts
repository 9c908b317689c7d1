import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// `npm start` builds first (prestart). A start with unchanged sources must not compile again;
// a changed source or template must reach dist/. Run on a copy of the project, so the suite's own
// dist/ is left alone.
const repo = path.resolve(__dirname, '../..');
let project: string;

function prestart(): void {
  execFileSync('npm', ['run', 'prestart', '--silent'], { cwd: project, stdio: 'pipe', env: { ...process.env, npm_config_update_notifier: 'false' } });
}
const mtime = (rel: string) => fs.statSync(path.join(project, rel)).mtimeMs;

beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-build-'));
  for (const entry of ['package.json', 'tsconfig.json', 'src', 'entities', 'migrations', 'handlers']) {
    fs.cpSync(path.join(repo, entry), path.join(project, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(project, 'node_modules'));
});
afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

it('compiles once, then only what changed reaches dist/', () => {
  prestart();
  const cli = 'dist/src/cli.js';
  const template = fs.readdirSync(path.join(project, 'src/mail/templates')).find((f) => f.endsWith('.txt'))!;
  const builtTemplate = path.join(project, 'dist/src/mail/templates', template);
  expect(fs.existsSync(builtTemplate)).toBe(true);
  const compiled = mtime(cli);

  // Unchanged sources: nothing is compiled again.
  prestart();
  expect(mtime(cli)).toBe(compiled);

  // A changed template is copied, without compiling.
  fs.appendFileSync(path.join(project, 'src/mail/templates', template), '\nchanged template line\n');
  prestart();
  expect(fs.readFileSync(builtTemplate, 'utf8')).toContain('changed template line');
  expect(mtime(cli)).toBe(compiled);

  // A changed source is compiled.
  fs.appendFileSync(path.join(project, 'src/cli.ts'), '\n// changed\n');
  prestart();
  expect(mtime(cli)).toBeGreaterThan(compiled);
}, 300_000);
