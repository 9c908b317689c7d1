/** What `billing invoices` accepts; read by its --help without loading the command. */
export const INVOICE_STATUS_CHOICES = ['draft', 'open', 'paid', 'void', 'uncollectible', 'overdue'] as const;
export const DEFAULT_INVOICE_LIMIT = 1000;

/** Stripe's statuses of an invoice payment and of a credit note, for `billing payments` and `billing credit-notes`. */
export const PAYMENT_STATUS_CHOICES = ['open', 'paid', 'canceled'] as const;
export const CREDIT_NOTE_STATUS_CHOICES = ['issued', 'void'] as const;
