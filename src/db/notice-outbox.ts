import type { EntityManager } from 'typeorm';
import type { NoticeKind, NoticeStatus, OutboxNotice, PlannedNotice } from '../billing/notice-kinds';
import type { ToldRefund } from '../billing/notice-refunds';

export type InvoiceNotice = PlannedNotice & {
  stripeInvoiceId: string;
  /** What the notice is about within its invoice; absent (empty) for the invoice itself. */
  subject?: string;
  /** What a refund notice tells was refunded. */
  amountCents?: number | null;
};

/**
 * Writes planned notices in one statement: to be sent (pending, due now) or recorded as skipped
 * with their reason. One already there for the same (invoice, kind, sequence, subject) is kept as
 * it is. Says how many new rows went each way.
 */
export async function recordNotices(db: EntityManager, notices: readonly InvoiceNotice[], nowSeconds: number): Promise<{ queued: number; skipped: number }> {
  if (notices.length === 0) return { queued: 0, skipped: 0 };
  const rows: { status: NoticeStatus }[] = await db.query(
    `INSERT INTO email_notices (stripe_invoice_id, kind, sequence, subject, amount_cents, status, last_error, created_at, next_attempt_at, updated_at)
     SELECT i, k, s, j, a, CASE WHEN r IS NULL THEN 'pending' ELSE 'skipped' END, r, to_timestamp($7), to_timestamp($7), to_timestamp($7)
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY AS n(i, k, s, j, a, r, o)
      ORDER BY o
     ON CONFLICT (stripe_invoice_id, kind, sequence, subject) DO NOTHING
     RETURNING status`,
    [
      notices.map((n) => n.stripeInvoiceId),
      notices.map((n) => n.kind),
      notices.map((n) => n.sequence),
      notices.map((n) => n.subject ?? ''),
      notices.map((n) => n.amountCents ?? null),
      notices.map((n) => n.skip),
      nowSeconds,
    ],
  );
  const queued = rows.filter((r) => r.status === 'pending').length;
  return { queued, skipped: rows.length - queued };
}

/**
 * The refund notices each of these invoices' outboxes holds, in any status, by subject: the amount
 * each tells, its status and why it was skipped (a withdrawn one explains nothing; see isWithdrawn).
 */
export async function refundNoticesOf(db: EntityManager, stripeInvoiceIds: readonly string[]): Promise<Map<string, Map<string, ToldRefund>>> {
  const out = new Map<string, Map<string, ToldRefund>>();
  if (stripeInvoiceIds.length === 0) return out;
  const rows: { stripe_invoice_id: string; subject: string; amount_cents: string | null; status: NoticeStatus; last_error: string | null }[] = await db.query(
    `SELECT stripe_invoice_id, subject, amount_cents, status, last_error
       FROM email_notices WHERE stripe_invoice_id = ANY($1::text[]) AND kind = 'refund_issued'`,
    [stripeInvoiceIds],
  );
  for (const r of rows) {
    const told = out.get(r.stripe_invoice_id) ?? new Map<string, ToldRefund>();
    told.set(r.subject, { amountCents: Number(r.amount_cents ?? 0), status: r.status, lastError: r.last_error });
    out.set(r.stripe_invoice_id, told);
  }
  return out;
}

/**
 * Makes the pending receipts (invoice_paid) of these invoices due now: one waiting for its
 * charge's receipt link (see RECEIPT_WAIT_SECONDS) is looked at again as soon as a charge is linked.
 */
export async function wakeReceiptNotices(db: EntityManager, stripeInvoiceIds: readonly string[], nowSeconds: number): Promise<void> {
  if (stripeInvoiceIds.length === 0) return;
  await db.query(
    `UPDATE email_notices SET next_attempt_at = to_timestamp($2), updated_at = now()
      WHERE stripe_invoice_id = ANY($1::text[]) AND kind = 'invoice_paid' AND status = 'pending' AND next_attempt_at > to_timestamp($2)`,
    [stripeInvoiceIds, nowSeconds],
  );
}

/** The outbox of each of these invoices, in the order it was queued: what the planner and the mailer's last look read. */
export async function noticeHistoryOf(db: EntityManager, stripeInvoiceIds: readonly string[]): Promise<Map<string, OutboxNotice[]>> {
  const out = new Map<string, OutboxNotice[]>();
  if (stripeInvoiceIds.length === 0) return out;
  const rows: {
    id: string;
    stripe_invoice_id: string;
    kind: NoticeKind;
    sequence: number;
    status: NoticeStatus;
    last_error: string | null;
    recipient: string | null;
    queued_at: string;
    sent_at: string | null;
  }[] = await db.query(
    `SELECT id, stripe_invoice_id, kind, sequence, status, last_error, recipient,
            extract(epoch from created_at)::bigint AS queued_at, extract(epoch from sent_at)::bigint AS sent_at
       FROM email_notices
      WHERE stripe_invoice_id = ANY($1::text[])
      ORDER BY id`,
    [stripeInvoiceIds],
  );
  for (const r of rows) {
    const list = out.get(r.stripe_invoice_id) ?? [];
    list.push({
      id: r.id,
      kind: r.kind,
      sequence: r.sequence,
      status: r.status,
      lastError: r.last_error,
      recipient: r.recipient,
      queuedAt: Number(r.queued_at),
      sentAt: r.sent_at === null ? null : Number(r.sent_at),
    });
    out.set(r.stripe_invoice_id, list);
  }
  return out;
}

/** When the sweep must next look at each invoice (null: never again), in one statement. */
export async function setNextDunningOfMany(db: EntityManager, next: ReadonlyMap<string, number | null>): Promise<void> {
  if (next.size === 0) return;
  await db.query(
    `UPDATE invoices AS i SET next_dunning_at = to_timestamp(n.at)
       FROM unnest($1::text[], $2::double precision[]) AS n(id, at)
      WHERE i.stripe_invoice_id = n.id AND i.next_dunning_at IS DISTINCT FROM to_timestamp(n.at)`,
    [[...next.keys()], [...next.values()]],
  );
}

/** A due notice one mailer has claimed; its row stays locked until the claim's transaction ends. */
export interface ClaimedNotice {
  id: string;
  stripeInvoiceId: string;
  kind: NoticeKind;
  sequence: number;
  /** Empty for a notice about the invoice itself; see InvoiceNotice. */
  subject: string;
  amountCents: number | null;
  attempts: number;
  /** When it was queued (unix seconds). */
  queuedAt: number;
}

/**
 * The next due notice no other mailer holds, locked for this transaction (FOR UPDATE SKIP
 * LOCKED): two mailers never send the same notice. Only an invoice's earliest due notice can be
 * claimed, so each invoice's notices go out one at a time, in the order they were queued, with
 * any number of mailers: the next one is claimable only once the one before has been settled (or
 * deferred), and its last look sees it.
 */
export async function claimDueNotice(db: EntityManager, nowSeconds: number): Promise<ClaimedNotice | null> {
  const rows: {
    id: string;
    stripe_invoice_id: string;
    kind: NoticeKind;
    sequence: number;
    subject: string;
    amount_cents: string | null;
    attempts: number;
    queued_at: string;
  }[] = await db.query(
    `SELECT id, stripe_invoice_id, kind, sequence, subject, amount_cents, attempts, extract(epoch from created_at)::bigint AS queued_at
       FROM email_notices n
      WHERE status = 'pending' AND next_attempt_at <= to_timestamp($1)
        AND NOT EXISTS (
          SELECT 1 FROM email_notices e
           WHERE e.stripe_invoice_id = n.stripe_invoice_id AND e.status = 'pending'
             AND e.next_attempt_at <= to_timestamp($1) AND e.id < n.id)
      ORDER BY next_attempt_at, id
      LIMIT 1
      FOR UPDATE SKIP LOCKED`,
    [nowSeconds],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
    stripeInvoiceId: r.stripe_invoice_id,
    kind: r.kind,
    sequence: r.sequence,
    subject: r.subject,
    amountCents: r.amount_cents === null ? null : Number(r.amount_cents),
    attempts: r.attempts,
    queuedAt: Number(r.queued_at),
  };
}

/** What one attempt at sending a notice was: its number, to whom, under which Message-ID. */
export interface SendAttempt {
  attempts: number;
  recipient: string;
  messageId: string;
}

export async function markSent(db: EntityManager, id: string, a: SendAttempt, sentAt: number): Promise<void> {
  await db.query(
    `UPDATE email_notices SET status = 'sent', attempts = $2, recipient = $3, message_id = $4, sent_at = to_timestamp($5),
            last_error = NULL, updated_at = now() WHERE id = $1`,
    [id, a.attempts, a.recipient, a.messageId, sentAt],
  );
}

export async function markFailed(db: EntityManager, id: string, a: SendAttempt, reason: string): Promise<void> {
  await db.query(
    `UPDATE email_notices SET status = 'failed', attempts = $2, recipient = $3, message_id = $4, last_error = $5, updated_at = now() WHERE id = $1`,
    [id, a.attempts, a.recipient, a.messageId, reason],
  );
}

export async function scheduleRetry(db: EntityManager, id: string, a: SendAttempt, reason: string, retryAt: number): Promise<void> {
  await db.query(
    `UPDATE email_notices SET attempts = $2, recipient = $3, message_id = $4, last_error = $5, next_attempt_at = to_timestamp($6), updated_at = now() WHERE id = $1`,
    [id, a.attempts, a.recipient, a.messageId, reason, retryAt],
  );
}

/** Ends a notice without sending it: skipped (no longer true, no recipient) or failed (cannot be rendered). */
export async function settleNotice(db: EntityManager, id: string, status: 'skipped' | 'failed', reason: string): Promise<void> {
  await db.query(`UPDATE email_notices SET status = $2, last_error = $3, updated_at = now() WHERE id = $1`, [id, status, reason]);
}

export async function deferNotice(db: EntityManager, id: string, untilSeconds: number): Promise<void> {
  await db.query(`UPDATE email_notices SET next_attempt_at = to_timestamp($2), updated_at = now() WHERE id = $1`, [id, untilSeconds]);
}

/**
 * Puts notices back to pending, due now, with a fresh attempt budget: failed ones, and (unless
 * `failedOnly`) those skipped for want of a recipient, which a new billing contact can now reach.
 */
export async function retryNoticesOf(
  db: EntityManager,
  f: { failedOnly: boolean; stripeInvoiceId: string | null },
): Promise<Array<{ id: string; stripe_invoice_id: string; kind: string; sequence: number }>> {
  // Wrapped in a SELECT: TypeORM answers a bare UPDATE with [rows, rowCount], not the rows.
  return db.query(
    `WITH retried AS (
       UPDATE email_notices
          SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, updated_at = now()
        WHERE (status = 'failed' OR ($1::boolean IS NOT TRUE AND status = 'skipped' AND last_error = 'no_recipient'))
          AND ($2::text IS NULL OR stripe_invoice_id = $2)
        RETURNING id, stripe_invoice_id, kind, sequence
     )
     SELECT * FROM retried ORDER BY id`,
    [f.failedOnly, f.stripeInvoiceId],
  );
}

/** One row of `billing notices list`; its keys, in this order, are the command's JSON. */
export interface ListedNotice {
  id: string;
  stripe_invoice_id: string;
  kind: NoticeKind;
  sequence: number;
  /** Empty for a notice about the invoice itself; `refund:re_…` or `charge:ch_…:<level>` for a refund notice. */
  subject: string;
  /** What a refund notice tells was refunded; null for the other kinds. */
  amount_cents: number | null;
  /** The currency of amount_cents: the refund's, else its charge's, else the invoice's; null without an amount. */
  currency: string | null;
  status: NoticeStatus;
  recipient: string | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

/** The outbox, newest first, for `billing notices list`. */
export async function recentNotices(
  db: EntityManager,
  f: { stripeInvoiceId: string | null; status: string | null; limit: number },
): Promise<ListedNotice[]> {
  // A refund notice's subject names the refund or the charge whose currency its amount is in.
  const rows: (Omit<ListedNotice, 'amount_cents'> & { amount_cents: string | null })[] = await db.query(
    `SELECT n.id, n.stripe_invoice_id, n.kind, n.sequence, n.subject, n.amount_cents,
            CASE WHEN n.amount_cents IS NOT NULL THEN coalesce(r.currency, c.currency, i.currency) END AS currency,
            n.status, n.recipient, n.attempts, n.last_error, n.created_at, n.sent_at
       FROM email_notices n
       LEFT JOIN refunds r ON n.subject LIKE 'refund:%' AND r.stripe_refund_id = substr(n.subject, 8)
       LEFT JOIN charges c ON n.subject LIKE 'charge:%' AND c.stripe_charge_id = split_part(n.subject, ':', 2)
       LEFT JOIN invoices i ON i.stripe_invoice_id = n.stripe_invoice_id
      WHERE ($1::text IS NULL OR n.stripe_invoice_id = $1) AND ($2::text IS NULL OR n.status = $2)
      ORDER BY n.created_at DESC, n.id DESC
      LIMIT $3`,
    [f.stripeInvoiceId, f.status, f.limit],
  );
  return rows.map((r) => ({ ...r, amount_cents: r.amount_cents === null ? null : Number(r.amount_cents) }));
}

/** How many notices wait to be sent, failed or were skipped, and the earliest next attempt among those waiting. */
export async function noticeCounts(db: EntityManager): Promise<{ pending: number; failed: number; skipped: number; oldest_pending: Date | null }> {
  const rows: Array<{ pending: number; failed: number; skipped: number; oldest_pending: Date | null }> = await db.query(
    `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
            min(next_attempt_at) FILTER (WHERE status = 'pending') AS oldest_pending
       FROM email_notices`,
  );
  return rows[0]!;
}

/**
 * How long the oldest notice that is due now has waited since it was queued, in seconds; 0 when
 * none is due. A notice waiting for its retry time or for a receipt link is not due yet, so only a
 * mailer that falls behind (or cannot send) makes this grow.
 */
export async function oldestDueNoticeSeconds(db: EntityManager, nowSeconds: number): Promise<number> {
  const rows: Array<{ age: number | null }> = await db.query(
    `SELECT extract(epoch from to_timestamp($1) - min(created_at))::float8 AS age
       FROM email_notices
      WHERE status = 'pending' AND next_attempt_at <= to_timestamp($1)`,
    [nowSeconds],
  );
  return Math.max(0, rows[0]?.age ?? 0);
}
