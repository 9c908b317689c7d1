import type { EntityManager } from 'typeorm';
import type { NoticeKind, NoticeRecord, NoticeStatus, OutboxNotice, PlannedNotice } from '../billing/notice-kinds';

export type InvoiceNotice = PlannedNotice & { stripeInvoiceId: string };

/**
 * Writes planned notices in one statement: to be sent (pending, due now) or recorded as skipped
 * with their reason. One already there for the same (invoice, kind, sequence) is kept as it is.
 */
export async function recordNotices(db: EntityManager, notices: readonly InvoiceNotice[], nowSeconds: number): Promise<number> {
  if (notices.length === 0) return 0;
  const rows: unknown[] = await db.query(
    `INSERT INTO email_notices (stripe_invoice_id, kind, sequence, status, last_error, created_at, next_attempt_at, updated_at)
     SELECT i, k, s, CASE WHEN r IS NULL THEN 'pending' ELSE 'skipped' END, r, to_timestamp($5), to_timestamp($5), to_timestamp($5)
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) WITH ORDINALITY AS n(i, k, s, r, o)
      ORDER BY o
     ON CONFLICT (stripe_invoice_id, kind, sequence) DO NOTHING
     RETURNING id`,
    [notices.map((n) => n.stripeInvoiceId), notices.map((n) => n.kind), notices.map((n) => n.sequence), notices.map((n) => n.skip), nowSeconds],
  );
  return rows.length;
}

/** The outbox of each of these invoices, as the notice planner reads it. */
export async function noticeHistoryOf(db: EntityManager, stripeInvoiceIds: readonly string[]): Promise<Map<string, NoticeRecord[]>> {
  const out = new Map<string, NoticeRecord[]>();
  if (stripeInvoiceIds.length === 0) return out;
  const rows: { stripe_invoice_id: string; kind: NoticeKind; sequence: number; status: NoticeStatus; queued_at: string; sent_at: string | null }[] = await db.query(
    `SELECT stripe_invoice_id, kind, sequence, status,
            extract(epoch from created_at)::bigint AS queued_at, extract(epoch from sent_at)::bigint AS sent_at
       FROM email_notices
      WHERE stripe_invoice_id = ANY($1::text[])
      ORDER BY id`,
    [stripeInvoiceIds],
  );
  for (const r of rows) {
    const list = out.get(r.stripe_invoice_id) ?? [];
    list.push({ kind: r.kind, sequence: r.sequence, status: r.status, queuedAt: Number(r.queued_at), sentAt: r.sent_at === null ? null : Number(r.sent_at) });
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

/** The other notices of an invoice, for the mailer's last look before it sends one. */
export async function otherNoticesOf(db: EntityManager, stripeInvoiceId: string, exceptId: string): Promise<OutboxNotice[]> {
  const rows: { kind: NoticeKind; sequence: number; status: NoticeStatus; last_error: string | null; queued_at: string; sent_at: string | null; recipient: string | null }[] =
    await db.query(
      `SELECT kind, sequence, status, last_error, recipient,
              extract(epoch from created_at)::bigint AS queued_at, extract(epoch from sent_at)::bigint AS sent_at
         FROM email_notices
        WHERE stripe_invoice_id = $1 AND id <> $2
        ORDER BY id`,
      [stripeInvoiceId, exceptId],
    );
  return rows.map((r) => ({
    kind: r.kind,
    sequence: r.sequence,
    status: r.status,
    lastError: r.last_error,
    recipient: r.recipient,
    queuedAt: Number(r.queued_at),
    sentAt: r.sent_at === null ? null : Number(r.sent_at),
  }));
}
