import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DataSource } from 'typeorm';
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
  /** By Stripe status and currency. Remaining is what is owed, so 0 on void and uncollectible invoices. */
  invoices: Array<{ status: string; currency: string; count: number } & Owed & WrittenOff>;
  /** As `billing invoices --overdue` counts them: open, past due, money owed, by the clock. */
  overdue: Array<{ currency: string; count: number } & Owed>;
  events: { total: number; unprocessed: number; failed: number; oldestUnprocessed: { id: string; type: string; receivedAt: string } | null };
  notices: { pending: number; failed: number; skipped: number; oldestPending: string | null };
}

function owed(sum: string, currency: string): Owed {
  const minor = minorUnitsFromText(sum);
  return { amountRemainingCents: minor, amountRemaining: toMajorUnits(minor, currency) };
}

function writtenOff(sum: string, currency: string): WrittenOff {
  const minor = minorUnitsFromText(sum);
  return { amountWrittenOffCents: minor, amountWrittenOff: toMajorUnits(minor, currency) };
}

/**
 * Amounts come from the finance views, so they follow finance's rules (nothing owed on a void
 * invoice; an uncollectible one's balance written off), and are numbers, as in
 * `billing invoices --format json`.
 */
export async function databaseStats(ds: DataSource): Promise<DatabaseStats> {
  // Sums as text (a sum of bigint is numeric), turned into numbers only where exact.
  const invoices: Array<{ status: string; currency: string; count: number; remaining: string; written_off: string }> = await ds.query(
    `SELECT status, currency, count(*)::int AS count,
            sum(amount_remaining_cents)::text AS remaining, sum(amount_written_off_cents)::text AS written_off
       FROM finance_invoice_rows
      GROUP BY status, currency ORDER BY status, currency`,
  );
  const overdue: Array<{ currency: string; count: number; remaining: string }> = await ds.query(
    `SELECT currency, count(*)::int AS count, sum(amount_remaining_cents)::text AS remaining
       FROM overdue_invoices
      GROUP BY currency ORDER BY currency`,
  );
  const [events] = (await ds.query(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE processed_at IS NULL)::int AS unprocessed,
            count(*) FILTER (WHERE processed_at IS NULL AND last_error IS NOT NULL)::int AS failed
       FROM stripe_events`,
  )) as Array<{ total: number; unprocessed: number; failed: number }>;
  const oldest: Array<{ id: string; type: string; received_at: Date }> = await ds.query(
    `SELECT id, type, received_at FROM stripe_events WHERE processed_at IS NULL ORDER BY received_at, id LIMIT 1`,
  );
  const [notices] = (await ds.query(
    `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
            min(next_attempt_at) FILTER (WHERE status = 'pending') AS oldest_pending
       FROM email_notices`,
  )) as Array<{ pending: number; failed: number; skipped: number; oldest_pending: Date | null }>;
  const o = oldest[0];
  return {
    invoices: invoices.map((r) => ({ status: r.status, currency: r.currency, count: r.count, ...owed(r.remaining, r.currency), ...writtenOff(r.written_off, r.currency) })),
    overdue: overdue.map((r) => ({ currency: r.currency, count: r.count, ...owed(r.remaining, r.currency) })),
    events: { ...events!, oldestUnprocessed: o ? { id: o.id, type: o.type, receivedAt: o.received_at.toISOString() } : null },
    notices: { pending: notices!.pending, failed: notices!.failed, skipped: notices!.skipped, oldestPending: notices!.oldest_pending?.toISOString() ?? null },
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
