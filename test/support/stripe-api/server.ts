/**
 * A small stand-in for the Stripe API (stripe-mock cannot be installed here), serving the
 * endpoints the processor uses: list/retrieve events, invoices, invoice payments, charges,
 * refunds and credit notes, retrieve customers, and create/list/retrieve webhook endpoints
 * (`billing endpoint`). It speaks Stripe's wire
 * format (form-encoded brackets in, Stripe-shaped JSON and errors out, Request-Id on every
 * response) so the product talks to it through the real `stripe` SDK exactly as to
 * api.stripe.com. Unlike stripe-mock it serves what the test stored, not canned fixtures, so a
 * test can assert on real pagination and filtering.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ParamError, parseFormParams, type ParamObject } from './params';
import { webhookCatalog } from './sdk-catalog';
import { CustomerStore, EventStore, InvoiceStore, ResourceStore, V2EventStore, WebhookEndpointStore, type ObjectStore, type Stored } from './stores';

export { CustomerStore, EventStore, InvoiceStore, ResourceStore, V2EventStore, WebhookEndpointStore } from './stores';
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
  /** The v2 API's way of naming the account (`Stripe-Context`), when sent. */
  context?: string;
  /** The `Idempotency-Key` header, when sent. */
  idempotencyKey?: string;
  /** True when the answer was the one saved for an earlier request with the same Idempotency-Key. */
  replayed?: boolean;
}

export interface StripeApi {
  /** Base URL for the product's STRIPE_API_BASE, e.g. `http://127.0.0.1:12111`. */
  url: string;
  port: number;
  events: EventStore;
  invoices: InvoiceStore;
  invoicePayments: ResourceStore;
  charges: ResourceStore;
  refunds: ResourceStore;
  creditNotes: ResourceStore;
  /** Retrieve only; `customers.delete(id)` leaves the stub Stripe answers for a deleted customer. */
  customers: CustomerStore;
  /** Created by `POST /v1/webhook_endpoints` (or put by a test), listed and retrieved. */
  webhookEndpoints: WebhookEndpointStore;
  /** The v2 events (`v2.core.event`) a thin notification names, for `GET /v2/core/events/{id}`. */
  v2Events: V2EventStore;
  /**
   * From now on this well-formed key is refused with 401 `Invalid API Key provided`, as Stripe
   * refuses a key that was rolled or deleted. `reset()` forgets it.
   */
  revokeKey(key: string): void;
  /**
   * The next `times` requests (any path, or only those whose path starts with `o.path`, and of
   * `o.method` when given; before authentication, as a failing load balancer or rate limiter
   * would) answer `status` with
   * Stripe's error body. Calls queue up in order; a request takes the first that applies to it.
   */
  failNext(status: FailureStatus, times: number, o?: { path?: string; method?: 'GET' | 'POST' }): void;
  /**
   * Every request received, oldest first; `requests.length = 0` empties it. A POST answered from
   * the idempotency cache (same `Idempotency-Key`) is recorded with `replayed: true`.
   */
  requests: RecordedRequest[];
  /** Empties every store, the failure queue and `requests`, for a server shared across tests. */
  reset(): void;
  /** Closes the listener and every open (keep-alive) connection. Safe to call twice. */
  stop(): Promise<void>;
}

/** The body of a Stripe error (the part inside `{"error": …}`). */
interface StripeErrorBody {
  type: 'invalid_request_error' | 'api_error' | 'idempotency_error';
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

/** The key a request authenticates with, or the 401 Stripe answers. */
function authenticate(header: string | undefined, revoked: ReadonlySet<string>): { key: string } | ApiError {
  const unauthorized = (message: string) =>
    new ApiError(401, { type: 'invalid_request_error', message }, { 'WWW-Authenticate': 'Bearer realm="Stripe"' });
  if (!header || header.trim() === '') return unauthorized(NO_KEY_MESSAGE);
  const m = /^(Bearer|Basic)\s+(.*)$/i.exec(header.trim());
  if (!m) return unauthorized(NO_KEY_MESSAGE);
  let key = (m[2] ?? '').trim();
  // curl -u sk_test_…: sends Basic base64("key:"); Stripe takes the user name as the key.
  if ((m[1] ?? '').toLowerCase() === 'basic') key = Buffer.from(key, 'base64').toString('utf8').split(':')[0] ?? '';
  if (key === '') return unauthorized(NO_KEY_MESSAGE);
  if (!VALID_KEY.test(key) || revoked.has(key)) return unauthorized(`Invalid API Key provided: ${maskApiKey(key)}`);
  return { key };
}

/** What a handler may know of the request beyond its parameters. */
interface RequestContext {
  /** Live-mode keys (`sk_live_`, `rk_live_`) create live-mode objects. */
  livemode: boolean;
  /** The connected account the request is made as (`Stripe-Account`): it sees that account's objects only. */
  account?: string;
}

/** Whether a request made as `ctx.account` (none: the platform) may see a stored object: only its owner's. */
const visibleTo = (ctx: RequestContext) => (s: Stored) => s.account === ctx.account;

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
  // expand is accepted (the SDK and products send it) but expands nothing: what it would embed
  // (a charge's refunds) is the test's to store, and is sent capped as Stripe caps it.
  optStringArray(params, 'expand');
  return { limit, ...(startingAfter === undefined ? {} : { startingAfter }), ...(endingBefore === undefined ? {} : { endingBefore }) };
}

/**
 * One page of a Stripe list, newest first. Cursors are positions in the unfiltered order (a
 * cursor object need not match the filters, as on Stripe). `ending_before` returns the `limit`
 * objects just newer than the cursor, still newest first, and `has_more` says whether even
 * newer ones exist: what the SDK's reverse auto-pagination expects.
 */
function paginate(ctx: RequestContext, store: ObjectStore, kind: string, url: string, lp: ListParams, keep: (o: Record<string, unknown>) => boolean, present: Present = asStored) {
  const all = store.sorted().filter(visibleTo(ctx));
  const cursorIndex = (id: string, param: string) => {
    const entry = store.entry(id);
    if (!entry || !visibleTo(ctx)(entry)) throw missing(kind, id, param);
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
  return { object: 'list', data: data.map((s) => present(s.object)), has_more: hasMore, url };
}

/** How a stored object is sent: as stored, or as Stripe would shape it (see embeddedListsCapped). */
type Present = (o: Record<string, unknown>) => Record<string, unknown>;
const asStored: Present = (o) => o;

/** What Stripe embeds of a list inside an object (a charge's `refunds`): its first 10, `has_more` beyond. */
export const EMBEDDED_LIST_LIMIT = 10;

/**
 * A charge as Stripe sends it: however many refunds a test stored in its `refunds` list, at most
 * 10 come embedded, with `has_more: true` when there are more (GET /v1/refunds?charge= has them
 * all). The stored object is left as it is.
 */
function embeddedListsCapped(o: Record<string, unknown>): Record<string, unknown> {
  const list = o['refunds'];
  if (typeof list !== 'object' || list === null || Array.isArray(list)) return o;
  const data = (list as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length <= EMBEDDED_LIST_LIMIT) return o;
  return { ...o, refunds: { ...list, data: data.slice(0, EMBEDDED_LIST_LIMIT), has_more: true } };
}

// --- endpoints ------------------------------------------------------------------------------

/** `invoice.*` style patterns: `*` matches any run of characters, everything else literally. */
function typePattern(type: string): (t: unknown) => boolean {
  if (!type.includes('*')) return (t) => t === type;
  const re = new RegExp(`^${type.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (t) => typeof t === 'string' && re.test(t);
}

function listEvents(events: EventStore, params: ParamObject, ctx: RequestContext) {
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
  return paginate(ctx, events, 'event', '/v1/events', lp, (e) => {
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

function listInvoices(invoices: InvoiceStore, params: ParamObject, ctx: RequestContext) {
  rejectUnknown(params, [...LIST_PARAMS, 'created', 'customer', 'customer_account', 'status', 'subscription', 'collection_method', 'due_date']);
  const lp = listParams(params);
  const created = optRange(params, 'created');
  const dueDate = optRange(params, 'due_date');
  const customer = optString(params, 'customer');
  const customerAccount = optString(params, 'customer_account');
  const subscription = optString(params, 'subscription');
  const status = optEnum(params, 'status', INVOICE_STATUSES);
  const collectionMethod = optEnum(params, 'collection_method', COLLECTION_METHODS);
  return paginate(ctx, invoices, 'invoice', '/v1/invoices', lp, (i) => {
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

/** `payment[type]=payment_intent&payment[payment_intent]=pi_…`: which payment an invoice payment is. */
function optPaymentFilter(params: ParamObject): { type: string; payment_intent?: string; payment_record?: string } | undefined {
  const v = params['payment'];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('Invalid payment: must be a hash with type, payment_intent or payment_record', 'payment');
  rejectUnknown(v, ['type', 'payment_intent', 'payment_record']);
  const type = optString(v, 'type');
  if (type === undefined) throw invalid('Missing required param: payment[type].', 'payment[type]');
  if (!['payment_intent', 'payment_record'].includes(type)) throw invalid('Invalid payment[type]: must be one of payment_intent, payment_record', 'payment[type]');
  const pi = optString(v, 'payment_intent');
  const pr = optString(v, 'payment_record');
  return { type, ...(pi === undefined ? {} : { payment_intent: pi }), ...(pr === undefined ? {} : { payment_record: pr }) };
}

const INVOICE_PAYMENT_STATUSES = ['canceled', 'open', 'paid'];

/** Stripe lists an invoice's payments, not an account's: one of `invoice` or `payment` is required. */
function listInvoicePayments(store: ResourceStore, params: ParamObject, ctx: RequestContext) {
  rejectUnknown(params, [...LIST_PARAMS, 'created', 'invoice', 'payment', 'status']);
  const lp = listParams(params);
  const created = optRange(params, 'created');
  const invoice = optString(params, 'invoice');
  const payment = optPaymentFilter(params);
  const status = optEnum(params, 'status', INVOICE_PAYMENT_STATUSES);
  if (invoice === undefined && payment === undefined) throw invalid('You must provide one of these parameters: invoice, payment.', 'invoice');
  return paginate(ctx, store, 'invoice_payment', '/v1/invoice_payments', lp, (p) => {
    if (!inRange(p.created, created)) return false;
    if (invoice !== undefined && idOf(p.invoice) !== invoice) return false;
    if (status !== undefined && p.status !== status) return false;
    if (payment !== undefined) {
      const paid = (p.payment ?? {}) as Record<string, unknown>;
      if (paid['type'] !== payment.type) return false;
      if (payment.payment_intent !== undefined && idOf(paid['payment_intent']) !== payment.payment_intent) return false;
      if (payment.payment_record !== undefined && idOf(paid['payment_record']) !== payment.payment_record) return false;
    }
    return true;
  });
}

/** A list filtered by `created` and by fields that hold an id (or, expanded, the object). */
function listById(ctx: RequestContext, store: ObjectStore, kind: string, path: string, idFilters: readonly string[], params: ParamObject, extra: readonly string[] = [], present: Present = asStored) {
  rejectUnknown(params, [...LIST_PARAMS, 'created', ...idFilters, ...extra]);
  const lp = listParams(params);
  const created = optRange(params, 'created');
  const wanted = idFilters.flatMap((name) => {
    const v = optString(params, name);
    return v === undefined ? [] : [[name, v] as const];
  });
  const others = extra.flatMap((name) => {
    const v = optString(params, name);
    return v === undefined ? [] : [[name, v] as const];
  });
  return paginate(ctx, store, kind, path, lp, (o) => inRange(o.created, created) && wanted.every(([name, v]) => idOf(o[name]) === v) && others.every(([name, v]) => o[name] === v), present);
}

function retrieve(ctx: RequestContext, store: ObjectStore, kind: string, rawId: string, params: ParamObject, present: Present = asStored) {
  rejectUnknown(params, ['expand']);
  optStringArray(params, 'expand');
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    throw missing(kind, rawId, 'id');
  }
  const found = store.entry(id);
  // Another account's object does not exist for this request, as on Stripe.
  if (!found || !visibleTo(ctx)(found)) throw missing(kind, id, 'id');
  return present(found.object);
}

// --- webhook endpoints ----------------------------------------------------------------------

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomAlphanumeric = (n: number) => [...randomBytes(n)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');

const NOT_PUBLIC =
  'Invalid URL: URL must be publicly accessible. Consider using a tool like the Stripe CLI to test webhooks locally: https://github.com/stripe/stripe-cli';

/** Loopback, private and link-local hosts: Stripe cannot deliver there, and says so. */
function privateHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h === '::' || h.startsWith('fc') || h.startsWith('fd') || h.startsWith('fe80:')) return true;
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(h);
  if (!v4) return false;
  const [a, b] = [Number(v4[1]), Number(v4[2])];
  return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** Stripe's checks of an endpoint URL: absolute http(s), HTTPS in live mode, reachable from the internet. */
function checkWebhookUrl(raw: string, livemode: boolean): void {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalid('Invalid URL: An explicit scheme (such as https) must be provided.', 'url');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw invalid('Invalid URL: URL must use the http or https scheme.', 'url');
  if (livemode && u.protocol !== 'https:') throw invalid('Invalid URL: URLs in live mode must use HTTPS.', 'url');
  if (privateHost(u.hostname)) throw invalid(NOT_PUBLIC, 'url');
}

/** `metadata[key]=value`: at most 50 keys of up to 40 characters, values of up to 500. */
function optMetadata(params: ParamObject): Record<string, string> | undefined {
  const v = params['metadata'];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('Invalid metadata: must be a hash of strings (metadata[key]=value)', 'metadata');
  const entries = Object.entries(v);
  if (entries.length > 50) throw invalid('Invalid metadata: metadata can have up to 50 keys', 'metadata');
  for (const [k, value] of entries) {
    if (typeof value !== 'string') throw invalid(`Invalid metadata[${k}]: must be a string`, `metadata[${k}]`);
    if (k.length > 40) throw invalid(`Invalid metadata: keys can be up to 40 characters long (${k})`, 'metadata');
    if (value.length > 500) throw invalid(`Invalid metadata[${k}]: values can be up to 500 characters long`, `metadata[${k}]`);
  }
  return Object.fromEntries(entries.filter(([, value]) => value !== '')) as Record<string, string>;
}

/**
 * `POST /v1/webhook_endpoints`. The answer carries the signing secret; the stored object (what
 * list and retrieve send) does not, as on Stripe. Enum parameters are checked against the SDK's
 * own lists (sdk-catalog.ts), so an event type or API version Stripe does not know is a 400.
 */
function createWebhookEndpoint(store: WebhookEndpointStore, params: ParamObject, ctx: RequestContext) {
  rejectUnknown(params, ['url', 'enabled_events', 'api_version', 'connect', 'description', 'metadata', 'expand']);
  optStringArray(params, 'expand');
  const url = optString(params, 'url');
  if (url === undefined) throw invalid('Missing required param: url.', 'url');
  const events = optStringArray(params, 'enabled_events');
  if (events === undefined || events.length === 0) throw invalid('Missing required param: enabled_events.', 'enabled_events');
  checkWebhookUrl(url, ctx.livemode);
  const catalog = webhookCatalog();
  events.forEach((type, i) => {
    if (!catalog.eventTypes.has(type)) throw invalid(`Invalid enabled_events[${i}]: must be one of ${[...catalog.eventTypes].join(', ')}`, `enabled_events[${i}]`);
  });
  const apiVersion = optString(params, 'api_version');
  if (apiVersion !== undefined && !catalog.apiVersions.has(apiVersion)) {
    throw invalid(`Invalid api_version: must be one of ${[...catalog.apiVersions].join(', ')}`, 'api_version');
  }
  const connect = optBoolean(params, 'connect') ?? false;
  const description = optString(params, 'description');
  const metadata = optMetadata(params) ?? {};
  const endpoint = {
    id: `we_${randomAlphanumeric(24)}`,
    object: 'webhook_endpoint',
    api_version: apiVersion ?? null,
    application: null,
    created: Math.floor(Date.now() / 1000),
    description: description ?? null,
    enabled_events: [...new Set(events)],
    livemode: ctx.livemode,
    metadata,
    status: 'enabled',
    url,
  };
  const secret = `whsec_${randomAlphanumeric(32)}`;
  store.putWithSecret(endpoint, secret, connect, ctx.account);
  return { ...endpoint, secret };
}

/** Test-mode and live-mode endpoints are apart on Stripe: a key lists those of its own mode. */
function listWebhookEndpoints(store: WebhookEndpointStore, params: ParamObject, ctx: RequestContext) {
  rejectUnknown(params, LIST_PARAMS);
  return paginate(ctx, store, 'webhook_endpoint', '/v1/webhook_endpoints', listParams(params), (e) => e.livemode === ctx.livemode);
}

type Route = (params: ParamObject, ctx: RequestContext) => unknown;

interface Stores {
  events: EventStore;
  invoices: InvoiceStore;
  invoicePayments: ResourceStore;
  charges: ResourceStore;
  refunds: ResourceStore;
  creditNotes: ResourceStore;
  customers: CustomerStore;
  webhookEndpoints: WebhookEndpointStore;
  v2Events: V2EventStore;
}

/** Each resource's store, its object name (for "No such …"), and its list endpoint if it has one. */
function resources(s: Stores): Record<string, { store: ObjectStore; kind: string; list?: Route; create?: Route; present?: Present }> {
  return {
    events: { store: s.events, kind: 'event', list: (p, ctx) => listEvents(s.events, p, ctx) },
    invoices: { store: s.invoices, kind: 'invoice', list: (p, ctx) => listInvoices(s.invoices, p, ctx) },
    invoice_payments: { store: s.invoicePayments, kind: 'invoice_payment', list: (p, ctx) => listInvoicePayments(s.invoicePayments, p, ctx) },
    charges: {
      store: s.charges,
      kind: 'charge',
      list: (p, ctx) => listById(ctx, s.charges, 'charge', '/v1/charges', ['customer', 'payment_intent'], p, ['transfer_group'], embeddedListsCapped),
      present: embeddedListsCapped,
    },
    refunds: { store: s.refunds, kind: 'refund', list: (p, ctx) => listById(ctx, s.refunds, 'refund', '/v1/refunds', ['charge', 'payment_intent'], p) },
    credit_notes: { store: s.creditNotes, kind: 'credit_note', list: (p, ctx) => listById(ctx, s.creditNotes, 'credit_note', '/v1/credit_notes', ['customer', 'invoice'], p, ['customer_account']) },
    customers: { store: s.customers, kind: 'customer' },
    webhook_endpoints: {
      store: s.webhookEndpoints,
      kind: 'webhook_endpoint',
      list: (p, ctx) => listWebhookEndpoints(s.webhookEndpoints, p, ctx),
      create: (p, ctx) => createWebhookEndpoint(s.webhookEndpoints, p, ctx),
    },
  };
}

/** The v2 Events API answers a missing event with a 404 of its own. */
function retrieveV2Event(store: V2EventStore, id: string): unknown {
  const event = store.get(decodeURIComponent(id));
  if (!event) throw new ApiError(404, { type: 'invalid_request_error', code: 'resource_missing', message: `No such Event: '${decodeURIComponent(id)}'` });
  return event;
}

function route(method: string, path: string, stores: Stores): Route | undefined {
  if (method !== 'GET' && method !== 'POST') return undefined;
  const v2 = /^\/v2\/core\/events\/([^/]+)$/.exec(path);
  if (v2) return method === 'GET' ? () => retrieveV2Event(stores.v2Events, v2[1]!) : undefined;
  const m = /^\/v1\/([a-z_]+)(?:\/([^/]+))?$/.exec(path);
  const resource = m ? resources(stores)[m[1] as string] : undefined;
  if (!m || !resource) return undefined;
  const id = m[2];
  if (method === 'POST') return id === undefined ? resource.create : undefined;
  if (id === undefined) return resource.list;
  return (p, ctx) => retrieve(ctx, resource.store, resource.kind, id, p, resource.present);
}

/**
 * A POST's answer kept under its key and Idempotency-Key, as Stripe keeps it (24 hours there;
 * until reset here): sending the same request again returns it without acting twice. Only
 * answers the API itself gave are kept; a request cut off before it (failNext) left nothing.
 */
interface SavedAnswer {
  request: string;
  status: number;
  body: unknown;
}

const idempotencyMismatch = (key: string) =>
  new ApiError(400, {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });

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
  const stores: Stores = {
    events: new EventStore(),
    invoices: new InvoiceStore(),
    invoicePayments: new ResourceStore('invoice_payment'),
    charges: new ResourceStore('charge'),
    refunds: new ResourceStore('refund'),
    creditNotes: new ResourceStore('credit_note'),
    customers: new CustomerStore(),
    webhookEndpoints: new WebhookEndpointStore(),
    v2Events: new V2EventStore(),
  };
  const requests: RecordedRequest[] = [];
  const revokedKeys = new Set<string>();
  const idempotent = new Map<string, SavedAnswer>();
  const failures: Array<{ status: FailureStatus; remaining: number; path?: string; method?: string }> = [];

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

  function errorBody(record: RecordedRequest, err: ApiError) {
    const body: Record<string, unknown> = { ...err.body };
    if (err.body.code) body.doc_url = docUrl(err.body.code);
    body.request_log_url = `https://dashboard.stripe.com/test/logs/${record.requestId}`;
    return { error: body };
  }

  function sendError(res: http.ServerResponse, record: RecordedRequest, req: http.IncomingMessage, err: ApiError) {
    send(res, record, req, err.status, errorBody(record, err), err.headers);
  }

  /** The answer of the API proper: parameters, routing, the handler; a 4xx is an answer too. */
  function answer(method: string, path: string, record: RecordedRequest, paramError: unknown, ctx: RequestContext): { status: number; body: unknown } {
    try {
      if (paramError instanceof ParamError) throw invalid(paramError.message, paramError.param);
      if (paramError !== undefined) throw paramError;
      const handler = route(method, path, stores);
      if (!handler) {
        throw invalid(
          `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
          undefined,
          404,
        );
      }
      return { status: 200, body: handler(method === 'POST' ? (record.body ?? {}) : record.query, ctx) };
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) return { status: e.status, body: errorBody(record, e) };
      throw e;
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://stripe-api.invalid');
    const account = req.headers['stripe-account'];
    const context = req.headers['stripe-context'];
    const idempotencyKey = req.headers['idempotency-key'];
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: {},
      rawQuery: url.search.replace(/^\?/, ''),
      requestId: newRequestId(),
      ...(typeof account === 'string' ? { account } : {}),
      ...(typeof context === 'string' ? { context } : {}),
      ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}),
    };
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

      const at = failures.findIndex((f) => (f.path === undefined || url.pathname.startsWith(f.path)) && (f.method === undefined || f.method === method));
      const failure = failures[at];
      if (failure) {
        if (--failure.remaining <= 0) failures.splice(at, 1);
        throw injectedFailure(failure.status);
      }
      const auth = authenticate(req.headers.authorization, revokedKeys);
      if (auth instanceof ApiError) throw auth;
      const ctx: RequestContext = { livemode: /^(sk|rk)_live_/.test(auth.key), ...(record.account === undefined ? {} : { account: record.account }) };

      if (method !== 'POST' || record.idempotencyKey === undefined) {
        const a = answer(method, url.pathname, record, paramError, ctx);
        return send(res, record, req, a.status, a.body);
      }
      const slot = `${auth.key}\n${record.idempotencyKey}`;
      const request = `${method} ${url.pathname}\n${rawBody}`;
      const saved = idempotent.get(slot);
      if (saved && saved.request !== request) throw idempotencyMismatch(record.idempotencyKey);
      if (saved) {
        record.replayed = true;
        return send(res, record, req, saved.status, saved.body, { 'Idempotency-Key': record.idempotencyKey, 'Idempotent-Replayed': 'true' });
      }
      const a = answer(method, url.pathname, record, paramError, ctx);
      idempotent.set(slot, { request, ...a });
      send(res, record, req, a.status, a.body, { 'Idempotency-Key': record.idempotencyKey });
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
    ...stores,
    requests,
    failNext(status: FailureStatus, times: number, o: { path?: string; method?: 'GET' | 'POST' } = {}) {
      if (status !== 429 && status !== 500 && status !== 503) throw new RangeError(`failNext: unsupported status ${String(status)}`);
      if (!Number.isInteger(times) || times < 0) throw new RangeError(`failNext: times must be a non-negative integer, got ${times}`);
      if (o.path !== undefined && !/^\/v[12]\//.test(o.path)) throw new RangeError(`failNext: path must start with /v1/ or /v2/, got ${o.path}`);
      if (o.method !== undefined && o.method !== 'GET' && o.method !== 'POST') throw new RangeError(`failNext: method must be GET or POST, got ${String(o.method)}`);
      if (times > 0) failures.push({ status, remaining: times, ...(o.path === undefined ? {} : { path: o.path }), ...(o.method === undefined ? {} : { method: o.method }) });
    },
    revokeKey(key: string) {
      revokedKeys.add(key);
    },
    reset() {
      for (const store of Object.values(stores)) store.clear();
      failures.length = 0;
      requests.length = 0;
      revokedKeys.clear();
      idempotent.clear();
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
