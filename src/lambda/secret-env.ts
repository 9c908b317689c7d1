import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { ConfigError } from '../config';

/** Where a secret lives when the environment does not carry its value. */
export interface SecretStores {
  /** An SSM Parameter Store parameter, decrypted (SecureString). */
  parameter(name: string): Promise<string>;
  /** The SecretString of a Secrets Manager secret. */
  secret(id: string): Promise<string>;
}

/**
 * The variables of `npm start` that hold secrets. Instead of the value, a deployment may set
 * `<NAME>_PARAMETER` (an SSM parameter name) or `<NAME>_SECRET_ID` (a Secrets Manager id or ARN).
 */
const SECRET_VARIABLES = ['STRIPE_WEBHOOK_SECRET', 'STRIPE_SECRET_KEY', 'SMTP_URL', 'DATABASE_URL', 'PORTAL_SIGNING_SECRET'] as const;
export type SecretVariable = (typeof SECRET_VARIABLES)[number];

export interface PowertoolsStoresOptions {
  /** How long a fetched value is reused before it is read again (rotations show up within this time). */
  maxAgeSeconds: number;
  /** Clients for other endpoints (tests); by default the SDK's, for the function's region. */
  ssm?: SSMClient;
  secretsManager?: SecretsManagerClient;
}

/**
 * SSM and Secrets Manager through Powertools' providers, which cache each value for maxAge. The
 * providers (and so their SDK clients) are created on first use only: a function whose secrets all
 * come from the environment never builds a client, let alone calls AWS.
 */
export function powertoolsStores(o: PowertoolsStoresOptions): SecretStores {
  let ssm: SSMProvider | undefined;
  let secrets: SecretsProvider | undefined;
  return {
    parameter: async (name) => {
      ssm ??= o.ssm ? new SSMProvider({ awsSdkV3Client: o.ssm }) : new SSMProvider();
      const value = await ssm.get(name, { decrypt: true, maxAge: o.maxAgeSeconds });
      if (typeof value !== 'string') throw new Error('the parameter has no value');
      return value;
    },
    secret: async (id) => {
      secrets ??= o.secretsManager ? new SecretsProvider({ awsSdkV3Client: o.secretsManager }) : new SecretsProvider();
      const value = await secrets.get(id, { maxAge: o.maxAgeSeconds });
      if (typeof value !== 'string') throw new Error('the secret has no SecretString');
      return value;
    },
  };
}

const isSet = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

async function read(variable: string, where: string, fetch: () => Promise<string>): Promise<string> {
  try {
    return await fetch();
  } catch (err) {
    // Names the variable and the store, never a value: AWS error texts carry neither.
    const e = err as Error & { cause?: { name?: string } };
    throw new ConfigError(`${variable}: cannot read ${where}: ${e.cause?.name ?? e.name}: ${e.message}`);
  }
}

/**
 * RDS keeps database credentials as JSON (`username`, `password`, `host`, `port`, `dbname`); that is
 * the secret RDS Proxy authenticates with too. A secret holding a plain postgres:// URL is used as is.
 */
export function databaseUrlFromSecret(raw: string, env: NodeJS.ProcessEnv): string {
  const text = raw.trim();
  if (/^postgres(ql)?:\/\//.test(text)) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError('DATABASE_URL_SECRET_ID: the secret is neither a postgres:// URL nor RDS credentials JSON');
  }
  const s = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (typeof s['username'] !== 'string' || typeof s['password'] !== 'string') {
    throw new ConfigError('DATABASE_URL_SECRET_ID: the secret JSON needs "username" and "password"');
  }
  // The proxy endpoint wins over the host in the secret, which names the instance behind the proxy.
  const host = isSet(env['DATABASE_HOST']) ? env['DATABASE_HOST'].trim() : typeof s['host'] === 'string' ? s['host'] : undefined;
  if (host === undefined) throw new ConfigError('DATABASE_HOST: set it to the RDS Proxy endpoint; the secret names no host');
  const port = isSet(env['DATABASE_PORT']) ? env['DATABASE_PORT'].trim() : String(s['port'] ?? 5432);
  const name = isSet(env['DATABASE_NAME']) ? env['DATABASE_NAME'].trim() : typeof s['dbname'] === 'string' ? s['dbname'] : 'postgres';
  // RDS Proxy presents an Amazon-issued certificate that Node's bundled CAs already trust.
  const sslmode = isSet(env['DATABASE_SSLMODE']) ? env['DATABASE_SSLMODE'].trim() : 'verify-full';
  const user = encodeURIComponent(s['username']);
  const password = encodeURIComponent(s['password']);
  return `postgresql://${user}:${password}@${host}:${port}/${encodeURIComponent(name)}?sslmode=${encodeURIComponent(sslmode)}`;
}

/**
 * The environment with each secret variable filled in. A variable already set wins and its store is
 * never asked, so the packaged handlers run outside AWS (and in tests) on plain variables.
 */
export async function resolveSecretEnv(env: NodeJS.ProcessEnv, stores: SecretStores): Promise<NodeJS.ProcessEnv> {
  const resolved: NodeJS.ProcessEnv = { ...env };
  await Promise.all(
    SECRET_VARIABLES.map(async (name) => {
      if (isSet(env[name])) return;
      const parameter = env[`${name}_PARAMETER`];
      const secretId = env[`${name}_SECRET_ID`];
      if (isSet(parameter)) {
        resolved[name] = await read(name, `SSM parameter ${parameter.trim()}`, () => stores.parameter(parameter.trim()));
      } else if (isSet(secretId)) {
        const raw = await read(name, `Secrets Manager secret ${secretId.trim()}`, () => stores.secret(secretId.trim()));
        resolved[name] = name === 'DATABASE_URL' ? databaseUrlFromSecret(raw, env) : raw;
      }
    }),
  );
  return resolved;
}
