import { z } from 'zod';

// RFC 5321's limits: longer addresses are refused by mail servers, so accepting them only moves
// the failure to send time.
const MAX_ADDRESS_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;
const LINE_BREAK_OR_NUL = /[\r\n\0]/;

// zod's default pattern is ASCII-only: no quoted local parts, IP literals or UTF-8 addresses,
// which the SMTP path cannot be relied on to carry (SMTPUTF8 is optional for relays).
const emailSchema = z.email();

/**
 * One bare address (`user@example.com`: no display name, no list), trimmed and with the domain
 * lowercased; null when the input is anything else. The local part keeps its case, since the
 * receiving server may treat it as significant.
 *
 * Pure, and here rather than in src/mail/ so that the reducers (a customer's primary email) and
 * the mailer (the recipient it chooses) judge an address by the same rule. The finance views
 * hold the same rule in SQL (finance_email_address, AdoptionFixes1764806400000).
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
