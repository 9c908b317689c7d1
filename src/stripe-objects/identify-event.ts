import { record } from './loose-fields';

/**
 * Stripe's Amazon EventBridge destination wraps the event: `{"detail-type", "source", "detail": event}`.
 */
export function isEventBridgeEnvelope(v: Record<string, unknown>): boolean {
  return typeof v['detail'] === 'object' && v['detail'] !== null && typeof v['detail-type'] === 'string';
}

/** What an event says about itself, read without trusting any of it. */
export interface EventIdentity {
  id: string | null;
  type: string | null;
  /** A thin event (`v2.core.event`, `v1.*` types) refers to its object instead of carrying it. */
  thin: boolean;
  /** Stripe's `object` value of what the event carries or refers to (`invoice`). */
  object: string | null;
  objectId: string | null;
  /** The connected account, for Connect events. */
  account: string | null;
  /** Unix seconds; null when absent or unreadable. */
  created: number | null;
  livemode: boolean;
  apiVersion: string | null;
}

const text = (v: unknown, max = 255): string | null => (typeof v === 'string' && v !== '' ? v.slice(0, max) : null);

function createdOf(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : null;
  // A thin event dates itself with an ISO string.
  const ms = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

/** Whether a parsed body is a thin event notification. */
export function isThinEvent(v: Record<string, unknown>): boolean {
  return v['object'] === 'v2.core.event' || (typeof v['type'] === 'string' && v['type'].startsWith('v1.') && record(v['related_object']) !== null);
}

/**
 * The one lenient reading of an event (or an EventBridge envelope of one), for every place that
 * must name an event before, or instead of, using it: ingest's decision, the event log's record of
 * an event that cannot be used, the DLQ summary, backfill. It never throws.
 */
export function identifyEvent(raw: unknown): EventIdentity {
  let e = record(raw);
  if (e && isEventBridgeEnvelope(e)) e = record(e['detail']);
  if (!e) return { id: null, type: null, thin: false, object: null, objectId: null, account: null, created: null, livemode: false, apiVersion: null };
  const thin = isThinEvent(e);
  const about = thin ? record(e['related_object']) : record(record(e['data'])?.['object']);
  return {
    id: text(e['id']),
    type: text(e['type']),
    thin,
    object: text(thin ? about?.['type'] : about?.['object']),
    objectId: text(about?.['id']),
    // A snapshot event names the connected account in `account`, a thin one in `context`.
    account: text(thin ? e['context'] : e['account']),
    created: createdOf(e['created']),
    livemode: e['livemode'] === true,
    apiVersion: text(e['api_version']),
  };
}
