import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DataSource } from 'typeorm';

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface DatabaseStats {
  invoices: Array<{ status: string; currency: string | null; count: number; amountRemainingCents: string }>;
  overdue: Array<{ currency: string; count: number; amountRemainingCents: string }>;
  events: { total: number; unprocessed: number; failed: number; oldestUnprocessed: { id: string; type: string; receivedAt: string } | null };
  notices: { pending: number; failed: number; skipped: number; oldestPending: string | null };
}

/** Amounts stay strings: bigint cents summed over a whole ledger can pass 2^53. */
export async function databaseStats(ds: DataSource): Promise<DatabaseStats> {
  const invoices: Array<{ status: string; currency: string | null; count: number; remaining: string }> = await ds.query(
    `SELECT status, currency, count(*)::int AS count, coalesce(sum(amount_remaining_cents), 0)::text AS remaining
       FROM invoices WHERE deleted_at IS NULL
      GROUP BY status, currency ORDER BY status, currency`,
  );
  const overdue: Array<{ currency: string; count: number; remaining: string }> = await ds.query(
    `SELECT currency, count(*)::int AS count, sum(amount_remaining_cents)::text AS remaining
       FROM invoices WHERE overdue AND deleted_at IS NULL
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
    invoices: invoices.map((r) => ({ status: r.status, currency: r.currency, count: r.count, amountRemainingCents: r.remaining })),
    overdue: overdue.map((r) => ({ currency: r.currency, count: r.count, amountRemainingCents: r.remaining })),
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
