import type { EntityManager } from 'typeorm';
import type { RefundRow } from '../stripe-objects/refund-schema';
import type { ObjectRepository } from './object-repository';
import { objectTable } from './object-table';

const refundTable = objectTable<RefundRow>({
  table: 'refunds',
  columns: [
    ['stripeRefundId', 'stripe_refund_id', 'text'],
    ['stripeChargeId', 'stripe_charge_id', 'text'],
    ['stripePaymentIntentId', 'stripe_payment_intent_id', 'text'],
    ['amountCents', 'amount_cents', 'cents'],
    ['currency', 'currency', 'text'],
    ['status', 'status', 'text'],
    ['reason', 'reason', 'text'],
    ['failureReason', 'failure_reason', 'text'],
    ['createdAt', 'created_at', 'seconds'],
    ['livemode', 'livemode', 'boolean'],
    ['lastEventId', 'last_event_id', 'text'],
    ['lastEventCreatedAt', 'last_event_created_at', 'seconds'],
    ['stripeAccountId', 'stripe_account_id', 'text'],
  ],
});

export const findRefund = (db: EntityManager, id: string): Promise<RefundRow | null> => refundTable.findOne(db, id);

/** The refunds of a charge, oldest first. */
export const refundsOfCharge = async (db: EntityManager, stripeChargeId: string): Promise<RefundRow[]> =>
  (await refundsOfCharges(db, [stripeChargeId])).get(stripeChargeId) ?? [];

/** The refund kind's write path (see ObjectRepository). */
export const refundRepository: ObjectRepository<RefundRow> = refundTable;

/** The refunds of each of these charges, oldest first: what the refund notices are planned from. */
export async function refundsOfCharges(db: EntityManager, stripeChargeIds: readonly string[]): Promise<Map<string, RefundRow[]>> {
  const out = new Map<string, RefundRow[]>();
  for (const row of await refundsOfPayments(db, { chargeIds: stripeChargeIds, paymentIntentIds: [] })) {
    out.set(row.stripeChargeId!, [...(out.get(row.stripeChargeId!) ?? []), row]);
  }
  return out;
}

/**
 * The refunds of these charges, or of these payment intents (a refund may name only its payment
 * intent), oldest first.
 */
export async function refundsOfPayments(db: EntityManager, scope: { chargeIds: readonly string[]; paymentIntentIds: readonly string[] }): Promise<RefundRow[]> {
  if (scope.chargeIds.length === 0 && scope.paymentIntentIds.length === 0) return [];
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT ${refundTable.selectList} FROM refunds
      WHERE stripe_charge_id = ANY($1::text[]) OR stripe_payment_intent_id = ANY($2::text[])
      ORDER BY created_at, stripe_refund_id`,
    [scope.chargeIds, scope.paymentIntentIds],
  );
  return rows.map(refundTable.fromRow);
}
