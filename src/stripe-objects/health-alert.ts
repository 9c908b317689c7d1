import { record } from './loose-fields';

/**
 * Stripe's health alert for events it failed to generate. Such events never reach an endpoint nor
 * the Events API, so the only repair is to read the object again. The alert arrives as a thin
 * event; its details (which object, which event type) are read with the v2 Events API.
 */
export const HEALTH_ALERT_TYPE = 'v2.core.health.event_generation_failure.resolved';

/** What the event log and the metrics call an alert's outcome: it has no object kind of its own. */
export const HEALTH_ALERT_OBJECT = 'health_alert';

export const isHealthAlert = (type: string | null): boolean => type === HEALTH_ALERT_TYPE;

export interface HealthAlert {
  /** The event type Stripe failed to generate, e.g. `invoice.paid`. */
  eventType: string | null;
  /** The object it was about: Stripe's type name (`invoice`, `charge`, `payment_intent`, …) and id. */
  related: { type: string; id: string } | null;
  resolvedAt: string | null;
  summary: string | null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Infers an object's type from its id's prefix, for the preview layout that sent only `related_object_id`. */
const PREFIXES: ReadonlyArray<[string, string]> = [
  ['in_', 'invoice'],
  ['inpay_', 'invoice_payment'],
  ['ch_', 'charge'],
  ['py_', 'charge'],
  ['pi_', 'payment_intent'],
  ['re_', 'refund'],
  ['pyr_', 'refund'],
  ['cn_', 'credit_note'],
  ['cus_', 'customer'],
];

function typeOfId(id: string): string | null {
  return PREFIXES.find(([prefix]) => id.startsWith(prefix))?.[1] ?? null;
}

/**
 * The alert's details from the v2 event (`GET /v2/core/events/{id}`), or from a notification that
 * carries its `data`. The public preview names the object in `impact.related_object`; the private
 * preview gave only `impact.related_object_id`.
 */
export function readHealthAlert(event: unknown): HealthAlert {
  const data = record(record(event)?.['data']);
  const impact = record(data?.['impact']);
  const relatedObject = record(impact?.['related_object']);
  const id = text(relatedObject?.['id']) ?? text(impact?.['related_object_id']);
  const type = text(relatedObject?.['type']) ?? (id ? typeOfId(id) : null);
  return {
    eventType: text(impact?.['event_type']),
    related: id && type ? { type, id } : null,
    resolvedAt: text(data?.['resolved_at']),
    summary: text(data?.['summary']),
  };
}
