import { parseEmailAddress } from '../billing/email-address';
import { BillingError } from '../errors';

// RFC 5322's line limit; also bounds the work the From pattern below can do.
const MAX_HEADER_VALUE_LENGTH = 998;
const LINE_BREAK_OR_NUL = /[\r\n\0]/;

/**
 * A header value that would end the header early, i.e. let its author write further headers.
 * The value itself is wrong: sending it again cannot help.
 */
export class HeaderInjectionError extends BillingError {
  override readonly name = 'HeaderInjectionError';
  readonly retryable = false;
}

/** Returns `value` unchanged; throws when it could split into several header lines. */
export function assertHeaderValue(name: string, value: string): string {
  // The value stays out of the message: it is attacker-controlled and would land in logs.
  if (LINE_BREAK_OR_NUL.test(value)) throw new HeaderInjectionError(`${name} header value contains a line break or NUL`);
  return value;
}

const FORMAT_HINT = 'must look like billing@example.com or Billing <billing@example.com>';

function displayName(raw: string): string | null {
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(trimmed);
  // Unquoted, these characters mean the value is not one "Name <address>" (e.g. two addresses).
  if (!quoted && /[<>"]/.test(trimmed)) throw new Error(`sender display name ${FORMAT_HINT}`);
  const name = quoted ? quoted[1].replace(/\\(.)/g, '$1').trim() : trimmed;
  return name === '' ? null : assertHeaderValue('From', name);
}

/**
 * The sender from a MAIL_FROM-style setting: `billing@example.com` or
 * `Billing <billing@example.com>` (the name may be double-quoted). Throws an Error that names the
 * expected format, but not the value.
 */
export function parseMailFrom(raw: string): { name: string | null; address: string } {
  assertHeaderValue('From', raw);
  const trimmed = raw.trim();
  if (trimmed.length > MAX_HEADER_VALUE_LENGTH) throw new Error(`sender is too long; it ${FORMAT_HINT}`);
  const angled = /^(.*?)\s*<([^<>]*)>$/.exec(trimmed);
  const address = parseEmailAddress(angled ? angled[2] : trimmed);
  if (address === null) throw new Error(`sender address is not a single valid email address; it ${FORMAT_HINT}`);
  return { name: angled ? displayName(angled[1]) : null, address };
}
