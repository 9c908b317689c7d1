import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rows written before ConnectedAccounts1765500000000 by a Connect endpoint's events: each event
 * names its account in its payload (`account`; a thin notification, `context`), and a row belongs
 * to the account of the event that last wrote it. Left null, that account's next event about such
 * a row would be refused as another owner's.
 *
 * Outside a transaction and in batches of the key order, each batch its own statement, so no lock
 * is held for longer than a batch takes and the consumers keep writing; a run that stops is taken
 * up again by the next (a row already stamped is skipped).
 */
const BATCH = 5000;

/** Each object table, with its key column for the batches. */
const TABLES = [
  ['invoices', 'id'],
  ['invoice_payments', 'id'],
  ['charges', 'id'],
  ['refunds', 'id'],
  ['credit_notes', 'id'],
  ['billing_contacts', 'stripe_customer_id'],
] as const;

const ACCOUNT_OF_PAYLOAD = `coalesce(nullif(payload->>'account', ''), nullif(payload->>'context', ''))`;

export class ConnectedAccountsBackfill1765500002000 implements MigrationInterface {
  name = 'ConnectedAccountsBackfill1765500002000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    const events = (after: string) =>
      q.query(
        `WITH batch AS (SELECT id FROM stripe_events WHERE id > $1 ORDER BY id LIMIT ${BATCH}),
              stamped AS (
                UPDATE stripe_events e SET stripe_account_id = ${ACCOUNT_OF_PAYLOAD}
                  FROM batch
                 WHERE e.id = batch.id AND e.stripe_account_id IS NULL
                   AND e.payload ?| array['account', 'context'] AND ${ACCOUNT_OF_PAYLOAD} IS NOT NULL)
         SELECT max(id) AS last FROM batch`,
        [after],
      );
    await batches(events, '');
    for (const [table, key] of TABLES) {
      const rows = (after: string) =>
        q.query(
          `WITH batch AS (SELECT ${key} AS k FROM ${table} WHERE ${key} > $1 ORDER BY ${key} LIMIT ${BATCH}),
                stamped AS (
                  UPDATE ${table} r SET stripe_account_id = e.stripe_account_id
                    FROM batch, stripe_events e
                   WHERE r.${key} = batch.k AND r.stripe_account_id IS NULL
                     AND e.id = r.last_event_id AND e.stripe_account_id IS NOT NULL)
           SELECT max(k)::text AS last FROM batch`,
          [after],
        );
      await batches(rows, key === 'id' ? '0' : '');
    }
  }

  async down(): Promise<void> {
    // Nothing to undo: ConnectedAccounts1765500000000's down drops the column.
  }
}

/** Runs a batch after the last key of the one before until a batch finds no rows. */
async function batches(batch: (after: string) => Promise<Array<{ last: string | null }>>, first: string): Promise<void> {
  for (let after = first; ; ) {
    const [row] = await batch(after);
    if (!row || row.last === null) return;
    after = row.last;
  }
}
