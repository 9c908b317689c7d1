/**
 * A customer's billing contact as the operators keep it (`billing contacts set`): where invoice
 * emails go, and the fallback when neither it nor the invoice's own address is usable.
 */
export interface Contact {
  invoiceEmail: string | null;
  primaryEmail: string | null;
}
