/**
 * What `billing endpoint` decides about the account's webhook endpoints, without I/O: which ones
 * are ours, whether one already takes a URL, and what is wrong with each (disabled, event types
 * missing or extra against the registry's, an API version other than the processor's).
 */

/** The metadata that marks an endpoint as made by `billing endpoint create`. */
export const MANAGED_BY_KEY = 'managed_by';
export const MANAGED_BY = 'stripe-billing';
/**
 * Stripe's endpoint object does not say whether it is a Connect endpoint (`connect` is a create
 * parameter only), so ours carry it in metadata: `true` or `false`.
 */
export const CONNECT_KEY = 'connect';

/** The fields of Stripe's webhook endpoint object read here (Stripe.WebhookEndpoint has them all). */
export interface EndpointSnapshot {
  id: string;
  url: string;
  status: string;
  enabled_events: string[];
  api_version: string | null;
  metadata: Record<string, string> | null;
}

/** What an endpoint of this processor subscribes to: the registry's snapshot types, at the SDK's version. */
export interface Expected {
  eventTypes: readonly string[];
  apiVersion: string;
}

export type Problem = 'disabled' | 'missing_event_types' | 'extra_event_types' | 'api_version';

export interface EndpointFinding {
  id: string;
  url: string;
  status: string;
  /** Tagged metadata.managed_by = stripe-billing. */
  managed: boolean;
  /** From our metadata; null for an endpoint made elsewhere (Stripe does not say). */
  connect: boolean | null;
  apiVersion: string | null;
  eventTypes: number;
  missingEventTypes: string[];
  /** `*` (every event) is listed here as it is. */
  extraEventTypes: string[];
  problems: Problem[];
  ok: boolean;
}

export type NotFound = 'no_managed_endpoint' | 'no_endpoint_at_url';

export interface CheckReport {
  ok: boolean;
  /** The key's mode: Stripe lists the endpoints of that mode only. */
  livemode: boolean;
  url: string | null;
  expected: { apiVersion: string; eventTypes: readonly string[] };
  /** Every endpoint of the account (in the key's mode). */
  listed: number;
  /** The endpoints checked: ours, and any at --url. */
  endpoints: EndpointFinding[];
  /** Set when there was nothing to check where something was expected. */
  notFound: NotFound | null;
}

const isManaged = (e: EndpointSnapshot): boolean => e.metadata?.[MANAGED_BY_KEY] === MANAGED_BY;

function connectOf(e: EndpointSnapshot): boolean | null {
  const v = isManaged(e) ? e.metadata?.[CONNECT_KEY] : undefined;
  return v === 'true' ? true : v === 'false' ? false : null;
}

/**
 * One URL however it is written: the host's case, a default port and a trailing slash make no
 * difference to whether two endpoints would both post to it.
 */
export function sameWebhookUrl(a: string, b: string): boolean {
  const norm = (raw: string) => {
    try {
      const u = new URL(raw);
      u.pathname = u.pathname.replace(/\/+$/, '') || '/';
      return u.href;
    } catch {
      return raw;
    }
  };
  return norm(a) === norm(b);
}

export function inspectEndpoint(e: EndpointSnapshot, expected: Expected): EndpointFinding {
  const enabled = new Set(e.enabled_events);
  const wanted = new Set(expected.eventTypes);
  const missingEventTypes = enabled.has('*') ? [] : expected.eventTypes.filter((t) => !enabled.has(t));
  const extraEventTypes = e.enabled_events.filter((t) => !wanted.has(t));
  const problems: Problem[] = [];
  if (e.status !== 'enabled') problems.push('disabled');
  if (missingEventTypes.length > 0) problems.push('missing_event_types');
  if (extraEventTypes.length > 0) problems.push('extra_event_types');
  if (e.api_version !== expected.apiVersion) problems.push('api_version');
  return {
    id: e.id,
    url: e.url,
    status: e.status,
    managed: isManaged(e),
    connect: connectOf(e),
    apiVersion: e.api_version,
    eventTypes: e.enabled_events.length,
    missingEventTypes,
    extraEventTypes,
    problems,
    ok: problems.length === 0,
  };
}

/** The endpoints ours or at `url`, each inspected; not ok when one has a problem or none is there. */
export function checkEndpoints(all: readonly EndpointSnapshot[], expected: Expected, o: { url?: string; livemode: boolean }): CheckReport {
  const url = o.url;
  const chosen = all.filter((e) => isManaged(e) || (url !== undefined && sameWebhookUrl(e.url, url)));
  const endpoints = chosen.map((e) => inspectEndpoint(e, expected));
  const notFound: NotFound | null =
    url !== undefined && !chosen.some((e) => sameWebhookUrl(e.url, url)) ? 'no_endpoint_at_url' : chosen.length === 0 ? 'no_managed_endpoint' : null;
  return {
    ok: notFound === null && endpoints.every((f) => f.ok),
    livemode: o.livemode,
    url: url ?? null,
    expected: { apiVersion: expected.apiVersion, eventTypes: expected.eventTypes },
    listed: all.length,
    endpoints,
    notFound,
  };
}

/**
 * The endpoint a new one at `url` would duplicate: any endpoint at that URL, except one of ours
 * of the other kind (an account endpoint and a Connect endpoint may share the processor's URL;
 * each has its own secret). One made elsewhere is of an unknown kind, so it always counts.
 */
export function conflictingEndpoint(all: readonly EndpointSnapshot[], url: string, connect: boolean): EndpointSnapshot | undefined {
  return all.find((e) => {
    if (!sameWebhookUrl(e.url, url)) return false;
    const kind = connectOf(e);
    return kind === null || kind === connect;
  });
}
