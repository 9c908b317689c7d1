import type { InvoiceState } from './invoice-state';

/** Overdue means: still open, past its due date, and money still owed. Stripe has no such status. */
export function isOverdue(
  invoice: Pick<InvoiceState, 'status' | 'dueDate' | 'amountRemainingCents' | 'deletedAt'>,
  nowSeconds: number,
): boolean {
  return (
    invoice.status === 'open' &&
    invoice.deletedAt === null &&
    invoice.dueDate !== null &&
    invoice.dueDate < nowSeconds &&
    invoice.amountRemainingCents > 0
  );
}
