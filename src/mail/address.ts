import { z } from 'zod';
import { BillingError } from '../errors';

// RFC 5321's limits: longer addresses are refused by mail servers, so accepting them only moves
// the failure to send time.
const MAX_ADDRESS_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;
// RFC 5322's line limit; also bounds the work the From pattern below can do.
const MAX_HEADER_VALUE_LENGTH = 998;
const LINE_BREAK_OR_NUL = /[\r\n\0]/;

// zod's default pattern is ASCII-only: no quoted local parts, IP literals or UTF-8 addresses,
// which the SMTP path cannot be relied on to carry (SMTPUTF8 is optional for relays).
const emailSchema = z.email();

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

/**
 * One bare address (`user@example.com`: no display name, no list), trimmed and with the domain
 * lowercased; null when the input is anything else. The local part keeps its case, since the
 * receiving server may treat it as significant.
 */
export function parseEmailAddress(raw: string | null | undefined): string | null {
  // Checked before trimming: a line break at the edge means the value was tampered with or
  // mangled, not merely padded.
  if (typeof raw !== 'string' || LINE_BREAK_OR_NUL.test(raw)) return null;
  const trimmed = raw.trim();
  if (trimmed.length > MAX_ADDRESS_LENGTH || !emailSchema.safeParse(trimmed).success) return null;
  const at = trimmed.lastIndexOf('@');
  if (at > MAX_LOCAL_PART_LENGTH) return null;
  return `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
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
