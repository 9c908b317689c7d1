import { InvoicesAndEvents1763856000000 } from './1763856000000-InvoicesAndEvents';
import { EmailNotices1763942400000 } from './1763942400000-EmailNotices';
import { FinanceViews1764028800000 } from './1764028800000-FinanceViews';
import { AdoptionFixes1764806400000 } from './1764806400000-AdoptionFixes';
import { OpenEndedInvoiceStatus1765000000000 } from './1765000000000-OpenEndedInvoiceStatus';
import { PaymentTables1765100000000 } from './1765100000000-PaymentTables';
import { CreditNotesAndCustomers1765100001000 } from './1765100001000-CreditNotesAndCustomers';
import { MoneyFinanceViews1765200000000 } from './1765200000000-MoneyFinanceViews';
import { RefundNotices1765200001000 } from './1765200001000-RefundNotices';
import { EventPayloadRetention1765400000000 } from './1765400000000-EventPayloadRetention';
import { EventPayloadRetentionIndex1765400001000 } from './1765400001000-EventPayloadRetentionIndex';
import { ConnectedAccounts1765500000000 } from './1765500000000-ConnectedAccounts';
import { ConnectedAccountsIndexes1765500001000 } from './1765500001000-ConnectedAccountsIndexes';
import { ConnectedAccountsBackfill1765500002000 } from './1765500002000-ConnectedAccountsBackfill';
import { WalletLedger1765600000000 } from './1765600000000-WalletLedger';
import { BillingPageHits1765600001000 } from './1765600001000-BillingPageHits';
import { LinkedPaymentIndexes1765700000000 } from './1765700000000-LinkedPaymentIndexes';

/** In the order they must run; TypeORM records each by name in the `migrations` table. */
export const MIGRATIONS = [
  InvoicesAndEvents1763856000000,
  EmailNotices1763942400000,
  FinanceViews1764028800000,
  AdoptionFixes1764806400000,
  OpenEndedInvoiceStatus1765000000000,
  PaymentTables1765100000000,
  CreditNotesAndCustomers1765100001000,
  MoneyFinanceViews1765200000000,
  RefundNotices1765200001000,
  EventPayloadRetention1765400000000,
  EventPayloadRetentionIndex1765400001000,
  ConnectedAccounts1765500000000,
  ConnectedAccountsIndexes1765500001000,
  ConnectedAccountsBackfill1765500002000,
  WalletLedger1765600000000,
  BillingPageHits1765600001000,
  LinkedPaymentIndexes1765700000000,
];
