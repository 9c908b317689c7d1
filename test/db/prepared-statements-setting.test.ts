import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

describe('DATABASE_PREPARED_STATEMENTS', () => {
  it('is on unless set', () => {
    expect(loadConfig({}).databasePreparedStatements).toBe(true);
  });

  it.each([
    ['true', true],
    ['1', true],
    [' TRUE ', true],
    ['false', false],
    ['0', false],
    ['False', false],
  ])('reads %p as %p', (value, expected) => {
    expect(loadConfig({ DATABASE_PREPARED_STATEMENTS: value }).databasePreparedStatements).toBe(expected);
  });

  it.each(['', 'yes', 'off', '2', 'truee'])('refuses %p with a ConfigError naming the variable', (value) => {
    let thrown: unknown;
    try {
      loadConfig({ DATABASE_PREPARED_STATEMENTS: value });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toContain('DATABASE_PREPARED_STATEMENTS: must be true, false, 1 or 0');
  });
});

interface PrintedFunction {
  environment?: Record<string, unknown>;
}
interface Printed {
  provider: { environment?: Record<string, unknown> };
  functions: Record<string, PrintedFunction>;
}

/** Only plain strings: CloudFormation references (`!Ref …`) are resolved by AWS, not by the config. */
const strings = (env: Record<string, unknown> = {}) =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));

describe('serverless.yml', () => {
  // Every function behind RDS Proxy names the database secret; the proxy pins on named statements.
  it('switches prepared statements off for every function that reaches the database', async () => {
    // `serverless print` resolves the file as a deploy would (params of the offline ci stage).
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('SLS_')));
    const { stdout } = await run(path.join(ROOT, 'node_modules/.bin/serverless'), ['print', '--stage', 'ci', '--format', 'json'], {
      cwd: ROOT,
      env: { ...env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_EC2_METADATA_DISABLED: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const printed = JSON.parse(stdout) as Printed;
    const settings = Object.entries(printed.functions)
      .filter(([, fn]) => fn.environment?.['DATABASE_URL_SECRET_ID'] !== undefined)
      .map(([name, fn]) => [name, loadConfig({ ...strings(printed.provider.environment), ...strings(fn.environment) }).databasePreparedStatements]);
    expect(settings).toEqual([
      ['billingPage', false],
      ['consumer', false],
      ['sweep', false],
      ['mailer', false],
      ['migrate', false],
    ]);
  }, 60_000);
});
