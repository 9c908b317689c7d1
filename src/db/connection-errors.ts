import { types } from 'node:util';

/**
 * PostgreSQL's SQLSTATEs that are about the session, not the statement: class 08 (connection
 * exception), the server shutting down or crashed (57P01, 57P02), starting up or in recovery
 * (57P03), and out of connection slots (53300). The same statement can succeed on a new session.
 */
const CONNECTION_EXCEPTION_CLASS = '08';
const SERVER_UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Node's socket and DNS errors on the way to the server (pg hands them on with their `code`). */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * pg and pg-pool report these failures with a plain Error that has no `code`, so their text is
 * all there is to go on. Each is the start of the library's whole message:
 * - pg Client, its socket closed: "Connection terminated unexpectedly" (or "Connection terminated"
 *   while ending); pg-pool when its connectionTimeoutMillis cut a connect short: "Connection
 *   terminated due to connection timeout".
 * - pg Client queried after its socket failed: "Client has encountered a connection error and is
 *   not queryable".
 * - pg Client's query_timeout, a query stuck on a dead connection: "Query read timeout".
 * - pg-pool, no connection within connectionTimeoutMillis: "timeout exceeded when trying to connect".
 */
const PG_CONNECTION_LOSS_TEXT = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Query read timeout',
  'timeout exceeded when trying to connect',
];

function isPgConnectionLossWithoutCode(err: Error): boolean {
  return PG_CONNECTION_LOSS_TEXT.some((text) => err.message.startsWith(text));
}

function hasConnectionCode(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return SOCKET_CODES.has(code) || SERVER_UNAVAILABLE_SQLSTATES.has(code) || (code.length === 5 && code.startsWith(CONNECTION_EXCEPTION_CLASS));
}

/**
 * The error and what it wraps: TypeORM's QueryFailedError keeps pg's error as `driverError`,
 * pg-pool's connection timeout keeps the socket's as `cause`.
 */
function* chain(err: unknown): Generator<Error> {
  let current = err;
  // isNativeError, not instanceof: it also knows Node's socket errors when they come from
  // another realm (a vm context, a test runner's sandbox).
  for (let depth = 0; depth < 5 && types.isNativeError(current); depth++) {
    yield current;
    current = (current as { driverError?: unknown }).driverError ?? current.cause;
  }
}

/** Whether the database was unreachable (down, restarting, refusing, full), as opposed to the statement or the event being at fault. */
export function isConnectionError(err: unknown): boolean {
  for (const e of chain(err)) if (hasConnectionCode(e) || isPgConnectionLossWithoutCode(e)) return true;
  return false;
}
