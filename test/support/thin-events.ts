import { uid } from './stripe-events';

/** A thin event as Stripe's event destinations send it: a reference to the invoice, no snapshot. */
export function thinEvent(type: string, invoiceId: string, opts: { id?: string; created?: Date } = {}): Record<string, unknown> {
  return {
    id: opts.id ?? uid('evt_test'),
    object: 'v2.core.event',
    type,
    created: (opts.created ?? new Date()).toISOString(),
    livemode: false,
    reason: null,
    related_object: { id: invoiceId, type: 'invoice', url: `/v1/invoices/${invoiceId}` },
  };
}
