import { z } from 'zod';
import { unixSeconds } from '../billing/invoice-layouts';

/**
 * The zod pieces the money kinds (invoice payments, charges, refunds, credit notes) read their objects with.
 * Lenient where Stripe's layouts differ, strict where a row would be wrong: amounts are integers,
 * currencies three letters, statuses Stripe's lowercase names.
 */

export { unixSeconds };

export const stripeId = z.string().min(1).max(255);

/** A reference Stripe may expand into the whole object (`expand[]=invoice`): its id either way. */
export const reference = z.union([stripeId, z.object({ id: stripeId })]).transform((v) => (typeof v === 'string' ? v : v.id));

/** An optional reference: absent (a layout without the field) and null both read as null. */
export const optionalReference = reference.nullish().transform((v) => v ?? null);

export const cents = z.number().int().safe();

export const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO currency code')
  .transform((c) => c.toLowerCase());

/** Stripe's enum values are lowercase snake_case; anything else is not a status Stripe sent. */
export const statusName = z.string().max(64).regex(/^[a-z][a-z0-9_]*$/, 'must be a lowercase Stripe status name');

export const optionalText = z.string().max(5000).nullish().transform((v) => v ?? null);
