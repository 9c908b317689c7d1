import type { EntityManager } from 'typeorm';
import { DUNNING_KINDS, type NoticeKind, type NoticeRequest } from '../billing/notice-kinds';
import type { LastDunning } from '../billing/dunning';

const DUNNING = [...DUNNING_KINDS];

/** Adds notices to the outbox; one already there for the same (invoice, kind, sequence) is kept as is. */
export async function queueNotices(db: EntityManager, stripeInvoiceId: string, notices: NoticeRequest[], nowSeconds: number): Promise<number> {
  return queueNoticesOfMany(db, notices.map((n) => ({ ...n, stripeInvoiceId })), nowSeconds);
}

/** queueNotices for the notices of several invoices in one statement. */
export async function queueNoticesOfMany(
  db: EntityManager,
  notices: ReadonlyArray<NoticeRequest & { stripeInvoiceId: string }>,
  nowSeconds: number,
): Promise<number> {
  if (notices.length === 0) return 0;
  const rows: unknown[] = await db.query(
    `INSERT INTO email_notices (stripe_invoice_id, kind, sequence, created_at, next_attempt_at, updated_at)
     SELECT i, k, s, to_timestamp($4), to_timestamp($4), to_timestamp($4)
       FROM unnest($1::text[], $2::text[], $3::int[]) AS n(i, k, s)
     ON CONFLICT (stripe_invoice_id, kind, sequence) DO NOTHING
     RETURNING id`,
    [notices.map((n) => n.stripeInvoiceId), notices.map((n) => n.kind), notices.map((n) => n.sequence), nowSeconds],
  );
  return rows.length;
}

export async function lastDunning(db: EntityManager, stripeInvoiceId: string): Promise<LastDunning | null> {
  const rows: { kind: NoticeKind; sequence: number; at: string }[] = await db.query(
    `SELECT kind, sequence, extract(epoch from created_at)::bigint AS at
       FROM email_notices
      WHERE stripe_invoice_id = $1 AND kind = ANY($2::text[])
      ORDER BY created_at DESC, id DESC
      LIMIT 1`,
    [stripeInvoiceId, DUNNING],
  );
  const r = rows[0];
  return r ? { kind: r.kind, sequence: r.sequence, at: Number(r.at) } : null;
}

export async function setNextDunning(db: EntityManager, stripeInvoiceId: string, at: number | null): Promise<void> {
  await setNextDunningOfMany(db, new Map([[stripeInvoiceId, at]]));
}

export interface DunningNotice {
  kind: NoticeKind;
  sequence: number;
  /** created_at, unix seconds. */
  at: number;
  /** The row id: among notices of one second, the higher id is the later one. */
  id: bigint;
}

/** Every dunning notice of these invoices, so that lastDunning can be answered for a whole batch. */
export async function dunningNoticesOf(db: EntityManager, stripeInvoiceIds: readonly string[]): Promise<Map<string, DunningNotice[]>> {
  const out = new Map<string, DunningNotice[]>();
  if (stripeInvoiceIds.length === 0) return out;
  const rows: { stripe_invoice_id: string; kind: NoticeKind; sequence: number; at: string; id: string }[] = await db.query(
    `SELECT stripe_invoice_id, kind, sequence, extract(epoch from created_at)::bigint AS at, id
       FROM email_notices
      WHERE stripe_invoice_id = ANY($1::text[]) AND kind = ANY($2::text[])`,
    [stripeInvoiceIds, DUNNING],
  );
  for (const r of rows) {
    const list = out.get(r.stripe_invoice_id) ?? [];
    list.push({ kind: r.kind, sequence: r.sequence, at: Number(r.at), id: BigInt(r.id) });
    out.set(r.stripe_invoice_id, list);
  }
  return out;
}

/** setNextDunning for several invoices in one statement. */
export async function setNextDunningOfMany(db: EntityManager, next: ReadonlyMap<string, number | null>): Promise<void> {
  if (next.size === 0) return;
  await db.query(
    `UPDATE invoices AS i SET next_dunning_at = to_timestamp(n.at)
       FROM unnest($1::text[], $2::double precision[]) AS n(id, at)
      WHERE i.stripe_invoice_id = n.id AND i.next_dunning_at IS DISTINCT FROM to_timestamp(n.at)`,
    [[...next.keys()], [...next.values()]],
  );
}
