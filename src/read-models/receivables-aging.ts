import type { EntityManager } from 'typeorm';
import { AGING_COLUMNS, selectList, type DbRow } from './columns';

export const BUCKETS = ['current', '1-30', '31-60', '61-90', '90+'] as const;

/**
 * receivables_aging as of the query's now(), live mode first, then by currency and bucket age.
 * Every currency with money owed has all five buckets, zeros included. Each row also carries its
 * currency's totals (currency_total, currency_invoice_count) for the table; the CSV and JSON
 * columns are AGING_COLUMNS, one row per bucket, which a spreadsheet sums itself.
 */
export async function receivablesAging(db: EntityManager): Promise<DbRow[]> {
  return db.query(
    `SELECT ${selectList(AGING_COLUMNS)},
            finance_major_units((sum(open_amount_cents) OVER per_currency)::bigint, currency) AS currency_total,
            sum(invoice_count) OVER per_currency AS currency_invoice_count
       FROM (SELECT now() AS as_of, * FROM receivables_aging) a
     WINDOW per_currency AS (PARTITION BY livemode, currency)
      ORDER BY livemode DESC, currency, bucket_order`,
  );
}
