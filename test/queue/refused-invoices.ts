import type { DataSource } from 'typeorm';

/**
 * Makes the database refuse to write the invoices listed in `refused_invoices`, as a constraint or
 * trigger an operator added would: their events fail (and are recorded as failed) until the
 * invoice is taken off the list.
 */
export async function refuseListedInvoices(ds: DataSource): Promise<{ refuse(id: string): Promise<void>; allow(id: string): Promise<void> }> {
  await ds.query(`CREATE TABLE refused_invoices (id text PRIMARY KEY)`);
  await ds.query(`CREATE FUNCTION refuse_listed_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM refused_invoices WHERE id = NEW.stripe_invoice_id) THEN RAISE EXCEPTION 'invoice refused by the test'; END IF;
      RETURN NEW;
    END $$`);
  await ds.query(`CREATE TRIGGER refuse_listed_invoice BEFORE INSERT OR UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION refuse_listed_invoice()`);
  return {
    refuse: async (id) => void (await ds.query(`INSERT INTO refused_invoices (id) VALUES ($1)`, [id])),
    allow: async (id) => void (await ds.query(`DELETE FROM refused_invoices WHERE id = $1`, [id])),
  };
}

export interface DeadLetterRow {
  processed_at: Date | null;
  attempts: number;
  last_error: string | null;
  dead_lettered_at: Date | null;
}

export async function eventRow(ds: DataSource, id: string): Promise<DeadLetterRow | undefined> {
  const rows: DeadLetterRow[] = await ds.query(`SELECT processed_at, attempts, last_error, dead_lettered_at FROM stripe_events WHERE id = $1`, [id]);
  return rows[0];
}
