import type { EntityManager } from 'typeorm';
import type { Contact } from '../billing/contact';
import type { CustomerContactState } from '../stripe-objects/customer-reducer';
import type { ObjectRepository } from './object-repository';
import { objectTable } from './object-table';

/**
 * billing_contacts has two writers, each with its own columns: operators (`billing contacts
 * set`: invoice_email, primary_email) and the customer kind (the customer's events: primary_email
 * and the Stripe columns). Both take the row lock before they write (the kind's lock is FOR
 * UPDATE, the operator's an INSERT … ON CONFLICT DO UPDATE), so one waits for the other and
 * neither writes over a value it did not read.
 */

export interface StoredContact extends Contact {
  stripeCustomerId: string;
  updatedAt: Date;
  /** What the customer's Stripe events last said; null until one was applied. */
  name: string | null;
  stripeEmail: string | null;
  stripeSyncedAt: Date | null;
  deletedAt: Date | null;
  lastEventId: string | null;
}

interface ContactRow {
  stripe_customer_id: string;
  invoice_email: string | null;
  primary_email: string | null;
  updated_at: Date;
  name: string | null;
  stripe_email: string | null;
  stripe_synced_at: Date | null;
  deleted_at: Date | null;
  last_event_id: string | null;
}

export async function getContact(db: EntityManager, stripeCustomerId: string | null): Promise<StoredContact | null> {
  if (stripeCustomerId === null) return null;
  const rows: ContactRow[] = await db.query(
    `SELECT stripe_customer_id, invoice_email, primary_email, updated_at, name, stripe_email, stripe_synced_at, deleted_at, last_event_id
       FROM billing_contacts WHERE stripe_customer_id = $1`,
    [stripeCustomerId],
  );
  const r = rows[0];
  return r
    ? {
        stripeCustomerId: r.stripe_customer_id,
        invoiceEmail: r.invoice_email,
        primaryEmail: r.primary_email,
        updatedAt: r.updated_at,
        name: r.name,
        stripeEmail: r.stripe_email,
        stripeSyncedAt: r.stripe_synced_at,
        deletedAt: r.deleted_at,
        lastEventId: r.last_event_id,
      }
    : null;
}

/**
 * Sets the given addresses (already validated); an address not given keeps its current value.
 * A primary email set here stands until a customer event newer than the row's stripe_synced_at
 * says otherwise (see the customer kind's reducer).
 */
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

/** The customer kind's columns; invoice_email is not one, so its writes never touch it. */
const customerContactTable = objectTable<CustomerContactState>({
  table: 'billing_contacts',
  columns: [
    ['stripeCustomerId', 'stripe_customer_id', 'text'],
    ['primaryEmail', 'primary_email', 'text'],
    ['stripeEmail', 'stripe_email', 'text'],
    ['name', 'name', 'text'],
    ['deletedAt', 'deleted_at', 'seconds'],
    ['stripeSyncedAt', 'stripe_synced_at', 'seconds'],
    ['lastEventId', 'last_event_id', 'text'],
    ['stripeAccountId', 'stripe_account_id', 'text'],
  ],
});

/** The customer kind's row, unlocked: what its events have made of billing_contacts. */
export const findCustomerContact = (db: EntityManager, stripeCustomerId: string): Promise<CustomerContactState | null> => customerContactTable.findOne(db, stripeCustomerId);

/** The customer kind's write path (see ObjectRepository). */
export const customerContactRepository: ObjectRepository<CustomerContactState> = customerContactTable;
