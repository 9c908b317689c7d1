/**
 * Reading fields of a Stripe payload that has not been through a schema (an event before it is
 * identified, an object read from the API to follow its links): what is not of the expected shape
 * reads as absent.
 */

/** An object, not an array or null. */
export const record = (v: unknown): Record<string, unknown> | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/** An id field that holds the id or, expanded, the object. */
export function idIn(v: unknown): string | null {
  if (typeof v === 'string' && v !== '') return v;
  const id = record(v)?.['id'];
  return typeof id === 'string' && id !== '' ? id : null;
}
