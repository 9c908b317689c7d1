import type { EntityManager } from 'typeorm';
import type { Contact } from '../billing/contact';

export interface StoredContact extends Contact {
  stripeCustomerId: string;
  updatedAt: Date;
}

export async function getContact(db: EntityManager, stripeCustomerId: string | null): Promise<StoredContact | null> {
  if (stripeCustomerId === null) return null;
  const rows: { stripe_customer_id: string; invoice_email: string | null; primary_email: string | null; updated_at: Date }[] = await db.query(
    `SELECT stripe_customer_id, invoice_email, primary_email, updated_at FROM billing_contacts WHERE stripe_customer_id = $1`,
    [stripeCustomerId],
  );
  const r = rows[0];
  return r ? { stripeCustomerId: r.stripe_customer_id, invoiceEmail: r.invoice_email, primaryEmail: r.primary_email, updatedAt: r.updated_at } : null;
}

/** Sets the given addresses (already validated); an address not given keeps its current value. */
export async function upsertContact(
  db: EntityManager,
  stripeCustomerId: string,
  change: { invoiceEmail?: string | null; primaryEmail?: string | null },
): Promise<StoredContact> {
  await db.query(
    `INSERT INTO billing_contacts (stripe_customer_id, invoice_email, primary_email, updated_at)
     VALUES ($1, $2, $3, now())
     ON CONFLICT (stripe_customer_id) DO UPDATE
       SET invoice_email = CASE WHEN $4 THEN EXCLUDED.invoice_email ELSE billing_contacts.invoice_email END,
           primary_email = CASE WHEN $5 THEN EXCLUDED.primary_email ELSE billing_contacts.primary_email END,
           updated_at = now()`,
    [stripeCustomerId, change.invoiceEmail ?? null, change.primaryEmail ?? null, change.invoiceEmail !== undefined, change.primaryEmail !== undefined],
  );
  return (await getContact(db, stripeCustomerId))!;
}
