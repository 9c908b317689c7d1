import { MalformedEventError } from '../billing/snapshot';

/** Thin events (`v1.invoice.*`, Stripe's default since 2026-09) carry a reference, not the invoice. */
export function isThinEvent(value: unknown): value is ThinEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v['object'] === 'v2.core.event' || (typeof v['type'] === 'string' && v['type'].startsWith('v1.') && typeof v['related_object'] === 'object');
}

export interface ThinEvent {
  id: string;
  object: 'v2.core.event';
  type: string;
  created: string;
  livemode?: boolean;
  related_object?: { id?: unknown; type?: unknown };
}

/** The thin types that become invoice rows: every `v1.invoice.*` about an invoice, but the preview. */
export function isHandledThinEvent(e: ThinEvent): boolean {
  return (
    e.type.startsWith('v1.invoice.') &&
    e.type !== 'v1.invoice.upcoming' &&
    e.related_object?.type === 'invoice' &&
    typeof e.related_object.id === 'string' &&
    e.related_object.id !== ''
  );
}

export type FetchInvoice = (id: string) => Promise<Record<string, unknown> | null>;

/**
 * Turns a thin event into the snapshot event the merge understands by fetching the invoice. The
 * fetched invoice is the state at fetch time, so the snapshot is dated then: the merge orders it
 * against webhook snapshots by when each state was true, not by when the thin event was created.
 */
export async function expandThinEvent(e: ThinEvent, fetchInvoice: FetchInvoice | undefined, nowSeconds: number): Promise<Record<string, unknown>> {
  if (!isHandledThinEvent(e)) throw new MalformedEventError(`thin event ${e.type} does not refer to an invoice`);
  if (!fetchInvoice) throw new MalformedEventError('thin event received but STRIPE_SECRET_KEY is not set, so the invoice cannot be fetched');
  const id = e.related_object!.id as string;
  const type = e.type.slice('v1.'.length);
  const fetched = await fetchInvoice(id);
  const invoice = fetched ?? (type === 'invoice.deleted' ? { id, object: 'invoice', deleted: true } : null);
  if (invoice === null) throw new MalformedEventError(`invoice ${id} of thin event ${e.id} does not exist at Stripe`);
  const created = Date.parse(e.created);
  return {
    id: e.id,
    object: 'event',
    type,
    created: Math.max(Number.isFinite(created) ? Math.floor(created / 1000) : 0, nowSeconds),
    livemode: e.livemode === true,
    api_version: null,
    data: { object: invoice },
    thin_event: { created: e.created },
  };
}
