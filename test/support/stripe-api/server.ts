/**
 * A small stand-in for the Stripe API (stripe-mock cannot be installed here), serving the
 * read endpoints the processor uses: list/retrieve events and invoices. It speaks Stripe's wire
 * format (form-encoded brackets in, Stripe-shaped JSON and errors out, Request-Id on every
 * response) so the product talks to it through the real `stripe` SDK exactly as to
 * api.stripe.com. Unlike stripe-mock it serves what the test stored, not canned fixtures, so a
 * test can assert on real pagination and filtering.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ParamError, parseFormParams, type ParamObject } from './params';
import { EventStore, InvoiceStore, type ObjectStore, type Stored } from './stores';

export { EventStore, InvoiceStore } from './stores';
export { parseFormParams, ParamError } from './params';
export type { ParamObject, ParamValue } from './params';

export type FailureStatus = 429 | 500 | 503;

export interface RecordedRequest {
  method: string;
  /** The URL path without the query, e.g. `/v1/events/evt_123` (ids still percent-encoded). */
  path: string;
  /** The parsed query (`{}` when it could not be parsed; see rawQuery). */
  query: ParamObject;
  /** The query string as sent, without `?`. */
  rawQuery: string;
  /** Parsed form body, for methods that carry one. */
  body?: ParamObject;
  /** The status answered, set once the response is written. */
  status?: number;
  requestId: string;
  /** The connected account the request was made as (`Stripe-Account`), when one was named. */
  account?: string;
}

export interface StripeApi {
  /** Base URL for the product's STRIPE_API_BASE, e.g. `http://127.0.0.1:12111`. */
  url: string;
  port: number;
  events: EventStore;
  invoices: InvoiceStore;
  /**
   * The next `times` requests (any path, before authentication, as a failing load balancer or
   * rate limiter would) answer `status` with Stripe's error body. Calls queue up in order.
   */
  failNext(status: FailureStatus, times: number): void;
  /** Every request received, oldest first; `requests.length = 0` empties it. */
  requests: RecordedRequest[];
  /** Empties both stores, the failure queue and `requests`, for a server shared across tests. */
  reset(): void;
  /** Closes the listener and every open (keep-alive) connection. Safe to call twice. */
  stop(): Promise<void>;
}

/** The body of a Stripe error (the part inside `{"error": …}`). */
interface StripeErrorBody {
  type: 'invalid_request_error' | 'api_error';
  message: string;
  code?: string;
  param?: string;
}

/** Thrown by handlers; rendered as Stripe renders errors. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

const invalid = (message: string, param?: string, status = 400) =>
  new ApiError(status, { type: 'invalid_request_error', message, ...(param === undefined ? {} : { param }) });

const missing = (kind: string, id: string, param: string) =>
  new ApiError(404, { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${kind}: '${id}'` });

/**
 * Stripe's error bodies for the statuses failNext can inject. Stripe sends neither Retry-After
 * nor Stripe-Should-Retry with these, so neither do we: the product's own backoff decides.
 */
function injectedFailure(status: FailureStatus): ApiError {
  if (status === 429) {
    return new ApiError(429, {
      type: 'invalid_request_error',
      code: 'rate_limit',
      message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
    });
  }
  return new ApiError(status, {
    type: 'api_error',
    message:
      status === 503
        ? 'The Stripe API is temporarily unavailable. Please try again later.'
        : 'An unknown error occurred. Please try again later.',
  });
}

// --- authentication -------------------------------------------------------------------------

const NO_KEY_MESSAGE =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

/** Secret and restricted keys read events and invoices; publishable keys (pk_) cannot. */
const VALID_KEY = /^(sk_test_|sk_live_|rk_)\S+$/;

/**
 * Masks a key as Stripe does in its 401 message (`sk_test_****1234`). The last four characters
 * show only when at least eight others stay hidden, so a short key is never given back whole.
 */
export function maskApiKey(key: string): string {
  const prefix = /^[a-z]{2}_(test|live)_/.exec(key)?.[0] ?? '';
  const rest = key.slice(prefix.length);
  return `${prefix}****${rest.length >= 12 ? rest.slice(-4) : ''}`;
}

function authenticate(header: string | undefined): ApiError | undefined {
  const unauthorized = (message: string) =>
    new ApiError(401, { type: 'invalid_request_error', message }, { 'WWW-Authenticate': 'Bearer realm="Stripe"' });
  if (!header || header.trim() === '') return unauthorized(NO_KEY_MESSAGE);
  const m = /^(Bearer|Basic)\s+(.*)$/i.exec(header.trim());
  if (!m) return unauthorized(NO_KEY_MESSAGE);
  let key = (m[2] ?? '').trim();
  // curl -u sk_test_…: sends Basic base64("key:"); Stripe takes the user name as the key.
  if ((m[1] ?? '').toLowerCase() === 'basic') key = Buffer.from(key, 'base64').toString('utf8').split(':')[0] ?? '';
  if (key === '') return unauthorized(NO_KEY_MESSAGE);
  if (!VALID_KEY.test(key)) return unauthorized(`Invalid API Key provided: ${maskApiKey(key)}`);
  return undefined;
}

// --- parameter validation -------------------------------------------------------------------

function rejectUnknown(params: ParamObject, allowed: readonly string[]): void {
  for (const k of Object.keys(params)) if (!allowed.includes(k)) throw invalid(`Received unknown parameter: ${k}`, k);
}

/** A scalar parameter. An empty value counts as absent: the SDK sends `null` as `name=`. */
function optString(params: ParamObject, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw invalid(`Invalid string: ${name} must be a string, not a hash or array`, name);
  return v;
}

function parseInteger(v: string, name: string): number {
  const n = /^-?\d{1,15}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`Invalid integer: ${v}`, name);
  return n;
}

function optInteger(params: ParamObject, name: string): number | undefined {
  const v = optString(params, name);
  return v === undefined ? undefined : parseInteger(v, name);
}

function optBoolean(params: ParamObject, name: string): boolean | undefined {
  const v = optString(params, name);
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalid(`Invalid boolean: ${v}`, name);
}

function optStringArray(params: ParamObject, name: string, max?: number): string[] | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
    throw invalid(`Invalid array: ${name} must be an array of strings (${name}[]=…)`, name);
  }
  if (max !== undefined && v.length > max) throw invalid(`Invalid array: ${name} accepts at most ${max} elements, got ${v.length}`, name);
  return v;
}

interface Range {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

const RANGE_KEYS = ['gt', 'gte', 'lt', 'lte'] as const;

/** `created=5` (exactly 5) or `created[gte]=5&created[lt]=9`. */
function optRange(params: ParamObject, name: string): Range | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'string') {
    const n = parseInteger(v, name);
    return { gte: n, lte: n };
  }
  if (Array.isArray(v)) throw invalid(`Invalid ${name}: must be an integer or a hash with gt, gte, lt or lte`, name);
  const range: Range = {};
  for (const [k, raw] of Object.entries(v)) {
    const param = `${name}[${k}]`;
    if (!(RANGE_KEYS as readonly string[]).includes(k)) throw invalid(`Received unknown parameter: ${param}`, param);
    if (typeof raw !== 'string') throw invalid(`Invalid integer: ${param} must be an integer`, param);
    if (raw === '') continue;
    range[k as (typeof RANGE_KEYS)[number]] = parseInteger(raw, param);
  }
  return range;
}

function inRange(value: unknown, r: Range | undefined): boolean {
  if (r === undefined) return true;
  if (typeof value !== 'number') return false;
  return (
    (r.gt === undefined || value > r.gt) &&
    (r.gte === undefined || value >= r.gte) &&
    (r.lt === undefined || value < r.lt) &&
    (r.lte === undefined || value <= r.lte)
  );
}

interface ListParams {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
}

const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'expand'] as const;

function listParams(params: ParamObject): ListParams {
  const limit = optInteger(params, 'limit') ?? 10;
  if (limit < 1) throw invalid('This value must be greater than or equal to 1.', 'limit');
  if (limit > 100) throw invalid('This value must be less than or equal to 100.', 'limit');
  const startingAfter = optString(params, 'starting_after');
  const endingBefore = optString(params, 'ending_before');
  if (startingAfter !== undefined && endingBefore !== undefined) {
    throw invalid('You may only specify one of these parameters: ending_before, starting_after.', 'ending_before');
  }
  // expand is accepted (the SDK and products send it) but nothing here is expandable yet.
  optStringArray(params, 'expand');
  return { limit, ...(startingAfter === undefined ? {} : { startingAfter }), ...(endingBefore === undefined ? {} : { endingBefore }) };
}

/**
 * One page of a Stripe list, newest first. Cursors are positions in the unfiltered order (a
 * cursor object need not match the filters, as on Stripe). `ending_before` returns the `limit`
 * objects just newer than the cursor, still newest first, and `has_more` says whether even
 * newer ones exist: what the SDK's reverse auto-pagination expects.
 */
function paginate(store: ObjectStore, kind: string, url: string, lp: ListParams, keep: (o: Record<string, unknown>) => boolean) {
  const all = store.sorted();
  const cursorIndex = (id: string, param: string) => {
    const entry = store.entry(id);
    if (!entry) throw missing(kind, id, param);
    return all.indexOf(entry);
  };
  const matching = (entries: Stored[]) => entries.filter((s) => keep(s.object));
  let data: Stored[];
  let hasMore: boolean;
  if (lp.endingBefore !== undefined) {
    const newer = matching(all.slice(0, cursorIndex(lp.endingBefore, 'ending_before')));
    data = newer.slice(Math.max(0, newer.length - lp.limit));
    hasMore = newer.length > lp.limit;
  } else {
    const start = lp.startingAfter === undefined ? 0 : cursorIndex(lp.startingAfter, 'starting_after') + 1;
    const older = matching(all.slice(start));
    data = older.slice(0, lp.limit);
    hasMore = older.length > lp.limit;
  }
  return { object: 'list', data: data.map((s) => s.object), has_more: hasMore, url };
}

// --- endpoints ------------------------------------------------------------------------------

/** `invoice.*` style patterns: `*` matches any run of characters, everything else literally. */
function typePattern(type: string): (t: unknown) => boolean {
  if (!type.includes('*')) return (t) => t === type;
  const re = new RegExp(`^${type.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (t) => typeof t === 'string' && re.test(t);
}

function listEvents(events: EventStore, params: ParamObject) {
  rejectUnknown(params, [...LIST_PARAMS, 'type', 'types', 'created', 'delivery_success']);
  const lp = listParams(params);
  const type = optString(params, 'type');
  // Stripe caps types at 20 and matches them exactly (wildcards are for `type` only).
  const types = optStringArray(params, 'types', 20);
  if (type !== undefined && types !== undefined) throw invalid('You may only specify one of these parameters: type, types.', 'types');
  const created = optRange(params, 'created');
  // Delivery success is read from the stored event: nothing pending means every webhook got it.
  const deliverySuccess = optBoolean(params, 'delivery_success');
  const typeMatches = type === undefined ? () => true : typePattern(type);
  return paginate(events, 'event', '/v1/events', lp, (e) => {
    if (!typeMatches(e.type)) return false;
    if (types !== undefined && !types.includes(e.type as string)) return false;
    if (!inRange(e.created, created)) return false;
    if (deliverySuccess !== undefined && (e.pending_webhooks === 0) !== deliverySuccess) return false;
    return true;
  });
}

const INVOICE_STATUSES = ['draft', 'open', 'paid', 'uncollectible', 'void'];
const COLLECTION_METHODS = ['charge_automatically', 'send_invoice'];

/** An id field that may hold the id or, expanded, the object. */
function idOf(v: unknown): unknown {
  return typeof v === 'object' && v !== null && 'id' in v ? (v as { id: unknown }).id : v;
}

function optEnum(params: ParamObject, name: string, values: string[]): string | undefined {
  const v = optString(params, name);
  if (v !== undefined && !values.includes(v)) throw invalid(`Invalid ${name}: must be one of ${values.join(', ')}`, name);
  return v;
}

function listInvoices(invoices: InvoiceStore, params: ParamObject) {
  rejectUnknown(params, [...LIST_PARAMS, 'created', 'customer', 'customer_account', 'status', 'subscription', 'collection_method', 'due_date']);
  const lp = listParams(params);
  const created = optRange(params, 'created');
  const dueDate = optRange(params, 'due_date');
  const customer = optString(params, 'customer');
  const customerAccount = optString(params, 'customer_account');
  const subscription = optString(params, 'subscription');
  const status = optEnum(params, 'status', INVOICE_STATUSES);
  const collectionMethod = optEnum(params, 'collection_method', COLLECTION_METHODS);
  return paginate(invoices, 'invoice', '/v1/invoices', lp, (i) => {
    if (!inRange(i.created, created) || !inRange(i.due_date, dueDate)) return false;
    if (customer !== undefined && idOf(i.customer) !== customer) return false;
    if (customerAccount !== undefined && i.customer_account !== customerAccount) return false;
    if (status !== undefined && i.status !== status) return false;
    if (collectionMethod !== undefined && i.collection_method !== collectionMethod) return false;
    if (subscription !== undefined) {
      // Newer API versions moved the subscription under parent.subscription_details.
      const parent = i.parent as { subscription_details?: { subscription?: unknown } } | null | undefined;
      if (idOf(i.subscription) !== subscription && idOf(parent?.subscription_details?.subscription) !== subscription) return false;
    }
    return true;
  });
}

function retrieve(store: ObjectStore, kind: string, rawId: string, params: ParamObject) {
  rejectUnknown(params, ['expand']);
  optStringArray(params, 'expand');
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    throw missing(kind, rawId, 'id');
  }
  const found = store.entry(id);
  if (!found) throw missing(kind, id, 'id');
  return found.object;
}

type Route = (params: ParamObject) => unknown;

function route(method: string, path: string, events: EventStore, invoices: InvoiceStore): Route | undefined {
  if (method !== 'GET') return undefined;
  if (path === '/v1/events') return (p) => listEvents(events, p);
  if (path === '/v1/invoices') return (p) => listInvoices(invoices, p);
  const one = /^\/v1\/(events|invoices)\/([^/]+)$/.exec(path);
  if (one) {
    const id = one[2] as string;
    return one[1] === 'events' ? (p) => retrieve(events, 'event', id, p) : (p) => retrieve(invoices, 'invoice', id, p);
  }
  return undefined;
}

// --- HTTP -----------------------------------------------------------------------------------

const MAX_BODY = 1 << 20;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(invalid('Request body too large', undefined, 413));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Stripe-style request id: `req_` and 14 alphanumerics. */
function newRequestId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `req_${[...randomBytes(14)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;
}

export async function startStripeApi(opts: { port?: number } = {}): Promise<StripeApi> {
  const events = new EventStore();
  const invoices = new InvoiceStore();
  const requests: RecordedRequest[] = [];
  const failures: Array<{ status: FailureStatus; remaining: number }> = [];

  function send(res: http.ServerResponse, record: RecordedRequest, req: http.IncomingMessage, status: number, body: unknown, extra: Record<string, string> = {}) {
    record.status = status;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Request-Id': record.requestId,
      'Cache-Control': 'no-cache, no-store',
      ...extra,
    };
    // Stripe answers in the version the request asked for and says so.
    const version = req.headers['stripe-version'];
    if (typeof version === 'string') headers['Stripe-Version'] = version;
    res.writeHead(status, headers).end(JSON.stringify(body, null, 2));
  }

  function sendError(res: http.ServerResponse, record: RecordedRequest, req: http.IncomingMessage, err: ApiError) {
    const body: Record<string, unknown> = { ...err.body };
    if (err.body.code) body.doc_url = docUrl(err.body.code);
    body.request_log_url = `https://dashboard.stripe.com/test/logs/${record.requestId}`;
    send(res, record, req, err.status, { error: body }, err.headers);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://stripe-api.invalid');
    const account = req.headers['stripe-account'];
    const record: RecordedRequest = { method, path: url.pathname, query: {}, rawQuery: url.search.replace(/^\?/, ''), requestId: newRequestId(), ...(typeof account === 'string' ? { account } : {}) };
    requests.push(record);
    try {
      // Read (and so drain) the body even when unused, so the keep-alive connection stays usable.
      const rawBody = await readBody(req);
      // Parse errors wait until after failure injection and authentication, which Stripe
      // evaluates before looking at parameters.
      let paramError: unknown;
      try {
        record.query = parseFormParams(url.searchParams);
        if (method !== 'GET' && method !== 'DELETE') record.body = parseFormParams(rawBody);
      } catch (e) {
        paramError = e;
      }

      const failure = failures[0];
      if (failure) {
        if (--failure.remaining <= 0) failures.shift();
        throw injectedFailure(failure.status);
      }
      const authError = authenticate(req.headers.authorization);
      if (authError) throw authError;
      if (paramError instanceof ParamError) throw invalid(paramError.message, paramError.param);
      if (paramError !== undefined) throw paramError;

      const handler = route(method, url.pathname, events, invoices);
      if (!handler) {
        throw invalid(
          `Unrecognized request URL (${method}: ${url.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
          undefined,
          404,
        );
      }
      send(res, record, req, 200, handler(record.query));
    } catch (e) {
      if (e instanceof ApiError) return sendError(res, record, req, e);
      // A bug in this server: say so in a Stripe-shaped 500 rather than hanging the client.
      sendError(res, record, req, new ApiError(500, { type: 'api_error', message: `stripe-api test server error: ${(e as Error)?.message ?? String(e)}` }));
    }
  }

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      // Only reached if writing the response itself failed; the connection is all we can drop.
      res.destroy(e instanceof Error ? e : undefined);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only; port 0 (the default) picks a free port, so parallel test files never collide.
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let stopped: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    events,
    invoices,
    requests,
    failNext(status: FailureStatus, times: number) {
      if (status !== 429 && status !== 500 && status !== 503) throw new RangeError(`failNext: unsupported status ${String(status)}`);
      if (!Number.isInteger(times) || times < 0) throw new RangeError(`failNext: times must be a non-negative integer, got ${times}`);
      if (times > 0) failures.push({ status, remaining: times });
    },
    reset() {
      events.clear();
      invoices.clear();
      failures.length = 0;
      requests.length = 0;
    },
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // close() waits for idle keep-alive sockets (the SDK's agent keeps them); drop them now.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
