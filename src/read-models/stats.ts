import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DataSource } from 'typeorm';
import { isKnownStatus } from '../billing/invoice-state';
import { inAccountScope, type AccountScope } from '../db/account-scope';
import { eventCounts, oldestUnprocessedEvent, pendingHealthAlerts } from '../db/event-log';
import { HEALTH_ALERT_TYPE } from '../stripe-objects/health-alert';
import { invoiceTotals, overdueTotals } from '../db/finance-views';
import { walletReasonCounts } from '../db/invoices';
import { hasUnknownWalletReason } from '../billing/wallet';
import { noticeCounts } from '../db/notice-outbox';
import { minorUnitsFromText } from './amounts';
import { toMajorUnits } from '../mail/money';

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

// Each amount twice, as JSON numbers: minor units as stored (`…Cents`) and major units by the
// currency's exponent, as `billing invoices --format json` gives them.
interface Owed {
  amountRemainingCents: number;
  amountRemaining: number;
}
interface WrittenOff {
  amountWrittenOffCents: number;
  amountWrittenOff: number;
}

export interface DatabaseStats {
  /**
   * `--account`: the connected account (`acct_…`) or the platform's own (`platform`) that invoices,
   * overdue, events and health alerts are of; absent, every owner's. Notices are counted for all.
   */
  account?: string;
  /** By Stripe status and currency. Remaining is what is owed, so 0 on void and uncollectible invoices. */
  invoices: Array<{ status: string; currency: string; count: number } & Owed & WrittenOff>;
  /** As `billing invoices --overdue` counts them: open, past due, money owed, by the clock. */
  overdue: Array<{ currency: string; count: number } & Owed>;
  /**
   * Invoices whose status is none of the five this version knows (Stripe added one since): stored
   * as Stripe sent it, never overdue, no notices about them.
   */
  unknownStatuses: Array<{ status: string; count: number }>;
  events: {
    total: number;
    unprocessed: number;
    failed: number;
    /** Processed events kept without their payload (`billing events prune`): known, no longer replayable. */
    payloadsPruned: number;
    oldestUnprocessed: { id: string; type: string; receivedAt: string } | null;
  };
  notices: { pending: number; failed: number; skipped: number; oldestPending: string | null };
  /**
   * Stripe's alerts that it failed to generate events for an object, not repaired yet: they wait
   * for STRIPE_SECRET_KEY and `billing reconcile --alerts` (or for a repair that keeps failing).
   */
  healthAlerts: { needReconcile: number; ids: string[] };
  /**
   * Invoices whose metadata.reason (or, on a manual one, metadata.wallet_effect) this version does
   * not know: paying them writes no wallet entry. Not an error; a platform's typo or a new reason.
   */
  wallet: { unknownReasons: Array<{ reason: string; walletEffect: string | null; count: number }> };
}

function owed(sum: string, currency: string): Owed {
  const minor = minorUnitsFromText(sum);
  return { amountRemainingCents: minor, amountRemaining: toMajorUnits(minor, currency) };
}

function writtenOff(sum: string, currency: string): WrittenOff {
  const minor = minorUnitsFromText(sum);
  return { amountWrittenOffCents: minor, amountWrittenOff: toMajorUnits(minor, currency) };
}

function unknownStatuses(rows: ReadonlyArray<{ status: string; count: number }>): DatabaseStats['unknownStatuses'] {
  const counts = new Map<string, number>();
  for (const r of rows) if (!isKnownStatus(r.status)) counts.set(r.status, (counts.get(r.status) ?? 0) + r.count);
  return [...counts].map(([status, count]) => ({ status, count }));
}

/**
 * Amounts come from the finance views, so they follow finance's rules (nothing owed on a void
 * invoice; an uncollectible one's balance written off), and are numbers, as in
 * `billing invoices --format json`.
 */
export async function databaseStats(ds: DataSource, account?: AccountScope): Promise<DatabaseStats> {
  const db = ds.manager;
  const invoices = await invoiceTotals(db, account);
  const overdue = await overdueTotals(db, account);
  const events = await eventCounts(db, account);
  const oldest = await oldestUnprocessedEvent(db, account);
  const notices = await noticeCounts(db);
  const reasons = await walletReasonCounts(db, account);
  const alerts = (await pendingHealthAlerts(db, HEALTH_ALERT_TYPE)).filter((a) => inAccountScope(account, a.account));
  return {
    ...(account === undefined ? {} : { account: account ?? 'platform' }),
    invoices: invoices.map((r) => ({ status: r.status, currency: r.currency, count: r.count, ...owed(r.remaining, r.currency), ...writtenOff(r.written_off, r.currency) })),
    overdue: overdue.map((r) => ({ currency: r.currency, count: r.count, ...owed(r.remaining, r.currency) })),
    unknownStatuses: unknownStatuses(invoices),
    events: { ...events, oldestUnprocessed: oldest ? { id: oldest.id, type: oldest.type, receivedAt: oldest.received_at.toISOString() } : null },
    notices: { pending: notices.pending, failed: notices.failed, skipped: notices.skipped, oldestPending: notices.oldest_pending?.toISOString() ?? null },
    healthAlerts: { needReconcile: alerts.length, ids: alerts.map((a) => a.id) },
    wallet: { unknownReasons: reasons.filter((r) => hasUnknownWalletReason({ reason: r.reason, ...(r.walletEffect === null ? {} : { wallet_effect: r.walletEffect }) })) },
  };
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const a: Record<string, string | undefined> = res.Attributes ?? {};
  const n = (k: string) => Number(a[k] ?? 0);
  return { visible: n('ApproximateNumberOfMessages'), inFlight: n('ApproximateNumberOfMessagesNotVisible'), delayed: n('ApproximateNumberOfMessagesDelayed') };
}
