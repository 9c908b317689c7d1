import pino, { type Logger, type LoggerOptions } from 'pino';

export const CENSOR = '[redacted]';

/** Keys whose value could be a secret, at the top of a logged object or one level down. */
const SECRET_KEYS = ['secret', 'secrets', 'webhookSecrets', 'password', 'databaseUrl', 'smtpUrl', 'apiKey', 'secretKey', 'metricsToken', 'signingSecrets', 'portalSecret', 'portalToken'];
/** Request headers that carry a credential, under `headers` at either level. */
const SECRET_HEADERS = ['stripe-signature', 'authorization'];

const SECRET_KEY_SET = new Set(SECRET_KEYS);

/**
 * The top-level paths, which pino's own redact handles cheaply (also in child bindings). Its
 * wildcard paths (`*.secret`) cost more than the rest of a log line together, so the level below
 * is censored by censorNested instead.
 */
export const TOP_LEVEL_PATHS = [...SECRET_KEYS, ...SECRET_HEADERS.map((h) => `headers[${JSON.stringify(h)}]`)];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy keeping what makes an Error an Error (class, message, stack), since those are not own enumerable keys. */
function copyOf(v: Record<string, unknown>): Record<string, unknown> {
  if (!(v instanceof Error)) return { ...v };
  return Object.assign(Object.create(Object.getPrototypeOf(v) as object) as Record<string, unknown>, v, { message: v.message, stack: v.stack });
}

/** `o` itself when it carries no secret key or secret header, else a censored copy. */
function censorOwn(o: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(o)) {
    if (SECRET_KEY_SET.has(key)) {
      (out ??= copyOf(o))[key] = CENSOR;
    } else if (key === 'headers' && isObject(o[key])) {
      const headers = o[key];
      const found = SECRET_HEADERS.filter((h) => h in headers);
      if (found.length > 0) {
        const copy = { ...headers };
        for (const h of found) copy[h] = CENSOR;
        (out ??= copyOf(o))[key] = copy;
      }
    }
  }
  return out ?? o;
}

/**
 * What pino's `*.key` paths did: a secret key (or header) one level below the top is censored.
 * The caller's objects are never changed; an object with nothing to censor is returned as is,
 * which is the whole cost on a normal log line: a look at each of its values.
 */
export function censorNested<T>(o: T): T {
  if (!isObject(o)) return o;
  let out: Record<string, unknown> = o;
  for (const key of Object.keys(o)) {
    const v = o[key];
    if (!isObject(v)) continue;
    const censored = censorOwn(v);
    if (censored !== v) {
      if (out === o) out = copyOf(o);
      out[key] = censored;
    }
  }
  return out as T;
}

/** pino logs an http request or response passed whole as `{ req }` / `{ res }`; censor that form. */
function asLogged(o: Record<string, unknown>): Record<string, unknown> {
  if (o['method'] && o['headers'] && o['socket']) return { req: pino.stdSerializers.req(o as never) };
  if (typeof o['setHeader'] === 'function') return { res: pino.stdSerializers.res(o as never) };
  return o;
}

/** pino options that censor every secret path, at the top and one level down. */
export function redactionOptions(): Pick<LoggerOptions, 'redact' | 'hooks'> {
  return {
    redact: { paths: TOP_LEVEL_PATHS, censor: CENSOR },
    hooks: {
      logMethod(args, method) {
        // pino logs an Error passed first as `{ err }`, which puts the Error's own keys one level down.
        if (args[0] instanceof Error) args[0] = censorOwn(args[0] as unknown as Record<string, unknown>);
        else if (isObject(args[0])) args[0] = censorNested(asLogged(args[0]));
        return method.apply(this, args as Parameters<typeof method>);
      },
    },
  };
}

/** Child bindings get the same one-level-down censoring; every child inherits this from the root. */
export function censorChildBindings(root: Logger): Logger {
  const child = root.child;
  root.child = function (this: Logger, bindings, options) {
    return child.call(this, censorNested(bindings), options);
  } as Logger['child'];
  return root;
}
