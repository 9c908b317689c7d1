import fs from 'node:fs';
import path from 'node:path';
import { SMTP_USER } from './support/world';
import { Figures, logDir, runDir, secrets } from './support/run';

/**
 * Runs last: every log the product wrote during the suite (each child's stdout and stderr, the
 * one-off commands' output) searched for this run's secrets by value, in every form in which
 * they travel: as configured, URL-encoded, and base64 as SMTP AUTH sends them.
 */
it('no log of the whole suite contains the webhook secret, the API key, the SMTP password or a database password', () => {
  const figures = new Figures('secrets in the logs of the whole suite');
  const s = secrets();
  const values: Record<string, string> = {
    'webhook signing secret': s.webhook,
    'Stripe API key': s.stripeKey,
    'SMTP password': s.smtpPassword,
    'database password (test server)': s.databasePassword,
  };
  const embedded = path.join(runDir(), 'embedded-database-password');
  const EMBEDDED = 'database password (embedded, billing dev)';
  if (fs.existsSync(embedded)) values[EMBEDDED] = fs.readFileSync(embedded, 'utf8');
  // The banner prints the embedded database's generated, local password once, on purpose, in its
  // ready-to-paste psql line (as it prints a generated webhook secret); nowhere else may it appear.
  const withoutPsqlLine = (text: string) => text.replace(/^ {2}psql {12}psql '[^'\n]*'$/m, '');

  const forms = (v: string) => [
    v,
    encodeURIComponent(v),
    Buffer.from(v).toString('base64'),
    Buffer.from(`\u0000${SMTP_USER}\u0000${v}`).toString('base64'),
    // The secret part without its well-known prefix, in case something trims or masks only that.
    v.replace(/^(whsec_|rk_test_|sk_test_)/, ''),
  ];
  const files = fs.readdirSync(logDir()).map((f) => path.join(logDir(), f));
  let bytes = 0;
  const found: string[] = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    bytes += text.length;
    for (const [name, value] of Object.entries(values)) {
      const searched = name === EMBEDDED ? withoutPsqlLine(text) : text;
      if (forms(value).some((f) => f.length >= 8 && searched.includes(f))) found.push(`${name} in ${path.basename(file)}`);
    }
  }
  const commands = new Set(files.map((f) => /-(dev|serve|worker|mailer)\b/.exec(path.basename(f))?.[1]).filter(Boolean));

  figures.set('log files searched', files.length);
  figures.set('bytes searched', bytes);
  figures.set('commands whose logs were searched', [...commands].sort().join(', '));
  figures.set('secrets searched for', Object.keys(values).join('; '));
  figures.set('secrets found', found.length);
  figures.write();

  expect(found).toEqual([]);
  // The check means something only if the suite ran and logged.
  expect(files.length).toBeGreaterThan(0);
  expect(bytes).toBeGreaterThan(0);
});
