import { getContact, upsertContact, type StoredContact } from '../db/billing-contacts';
import { parseEmailAddress } from '../billing/email-address';
import { CUSTOMER_ID } from './options';
import { print, UsageError } from './usage';
import { withDatabase } from './with-database';

function customerId(raw: string): string {
  if (!CUSTOMER_ID.test(raw)) throw new UsageError(`not a Stripe customer id: expected cus_…`);
  return raw;
}

/** "" clears an address; anything else must be one valid address. */
function address(option: string, raw: string | undefined): string | null | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === '') return null;
  const parsed = parseEmailAddress(raw);
  if (parsed === null) throw new UsageError(`${option}: not a valid email address (one bare address, like billing@example.com)`);
  return parsed;
}

function describe(c: StoredContact | null, id: string): string {
  if (c === null) return `${id}: no billing contact (notices go to the invoice's customer_email)`;
  return [
    `customer       ${c.stripeCustomerId}`,
    `invoice email  ${c.invoiceEmail ?? '-'}`,
    `primary email  ${c.primaryEmail ?? '-'}`,
    `updated        ${c.updatedAt.toISOString()}`,
    // What the customer's Stripe events last said; a newer one replaces the primary email.
    `name           ${c.name ?? '-'}`,
    `stripe email   ${c.stripeEmail ?? '-'}`,
    `stripe synced  ${c.stripeSyncedAt ? `${c.stripeSyncedAt.toISOString()} (${c.lastEventId ?? '-'})` : '- (no customer event yet)'}`,
    `deleted        ${c.deletedAt ? c.deletedAt.toISOString() : '-'}`,
  ].join('\n');
}

export async function setContact(rawId: string, opts: { invoiceEmail?: string; primaryEmail?: string; json?: boolean }): Promise<void> {
  const id = customerId(rawId);
  const invoiceEmail = address('--invoice-email', opts.invoiceEmail);
  const primaryEmail = address('--primary-email', opts.primaryEmail);
  if (invoiceEmail === undefined && primaryEmail === undefined) throw new UsageError('give --invoice-email and/or --primary-email');
  const saved = await withDatabase((ds) => upsertContact(ds.manager, id, { invoiceEmail, primaryEmail }));
  print(saved, opts.json ?? false, () => describe(saved, id));
}

export async function showContact(rawId: string, opts: { json?: boolean }): Promise<void> {
  const id = customerId(rawId);
  const contact = await withDatabase((ds) => getContact(ds.manager, id));
  print(contact, opts.json ?? false, () => describe(contact, id));
}
