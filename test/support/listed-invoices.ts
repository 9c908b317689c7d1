import { invoice } from './stripe-events';

/** An invoice's `status_transitions`, none set but those given. */
export const transitions = (t: Partial<Record<'finalized_at' | 'paid_at' | 'voided_at' | 'marked_uncollectible_at', number>>) => ({
  finalized_at: null,
  paid_at: null,
  voided_at: null,
  marked_uncollectible_at: null,
  ...t,
});

/**
 * An invoice as Stripe's API returns it: finalized ten seconds after `created`, 25.00 EUR open
 * (a reconcile, an import or a health alert's repair reads it), with these fields replaced.
 */
export function openInvoiceAt(id: string, created: number, overrides: Record<string, unknown> = {}) {
  return invoice({
    id,
    created,
    status: 'open',
    number: `INV-${id.slice(-6)}`,
    amount_due: 2500,
    amount_paid: 0,
    amount_remaining: 2500,
    total: 2500,
    currency: 'eur',
    due_date: null,
    metadata: {},
    status_transitions: transitions({ finalized_at: created + 10 }),
    ...overrides,
  });
}

/** The same invoice paid a minute after it was created. */
export const paidInvoiceAt = (id: string, created: number) =>
  openInvoiceAt(id, created, { status: 'paid', amount_paid: 2500, amount_remaining: 0, status_transitions: transitions({ finalized_at: created + 10, paid_at: created + 60 }) });
