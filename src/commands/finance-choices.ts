/** What `billing invoices` accepts; read by its --help without loading the command. */
export const INVOICE_STATUS_CHOICES = ['draft', 'open', 'paid', 'void', 'uncollectible', 'overdue'] as const;
export const DEFAULT_INVOICE_LIMIT = 1000;
