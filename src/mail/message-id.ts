export interface NoticeIdentity {
  id: string;
  kind: string;
  sequence: number;
  stripe_invoice_id: string;
  /** What the notice is about within its invoice (a refund notice's refund); empty or absent for the invoice itself. */
  subject?: string;
}

/**
 * Keeps a Message-ID part inside RFC 5322's dot-atom text: every other character (space, quote,
 * angle bracket, `@`, non-ASCII) is percent-encoded by its UTF-8 bytes. Stripe's ids are plain
 * letters, digits and `_`, so their Message-IDs are unchanged; an id with anything else (signed,
 * so from Stripe, but nothing guarantees its shape) would otherwise break the header, and with it
 * the recognition of a resent notice downstream.
 */
function atom(part: string): string {
  return Array.from(Buffer.from(part, 'utf8'))
    .map((b) => (/[A-Za-z0-9_.-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

/**
 * A stable id per notice, so a resend after a crash carries the same Message-ID. A notice with a
 * subject names it too, so two refund emails of one invoice read apart downstream.
 */
export function noticeMessageId(n: NoticeIdentity, fromAddress: string): string {
  const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1);
  const about = n.subject ? `.${atom(n.subject)}` : '';
  return `<notice-${atom(n.id)}.${atom(n.kind)}.${n.sequence}.${atom(n.stripe_invoice_id)}${about}@${domain}>`;
}
