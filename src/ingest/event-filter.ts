/**
 * Which verified events become queue messages: every `invoice.*` event whose object is an
 * Invoice with an id. `invoice.upcoming` carries a preview with no id and never becomes a row;
 * `invoice_payment.*` and `invoiceitem.*` carry other objects.
 */
export function isHandledInvoiceEvent(event: Record<string, unknown>): boolean {
  const type = event['type'];
  if (typeof type !== 'string' || !type.startsWith('invoice.') || type === 'invoice.upcoming') return false;
  const object = (event['data'] as { object?: Record<string, unknown> } | undefined)?.object;
  return object?.['object'] === 'invoice' && typeof object['id'] === 'string' && object['id'] !== '';
}
