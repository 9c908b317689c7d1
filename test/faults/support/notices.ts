import type { DataSource } from 'typeorm';
import type { MailServer } from './mail-server';

export interface NoticeAudit {
  byStatus: Record<string, number>;
  /** Messages the SMTP server stored. */
  delivered: number;
  /** Message-IDs stored more than once. */
  duplicates: Map<string, number>;
  /** Notices marked sent that the server never stored: a lost email. */
  sentButMissing: string[];
  /** Stored messages whose notice is not marked sent (the crash window, or a bug). */
  deliveredButNotSent: string[];
}

/** Compares the outbox with what the SMTP server really stored. */
export async function auditNotices(ds: DataSource, mail: MailServer): Promise<NoticeAudit> {
  const rows: Array<{ status: string; message_id: string | null }> = await ds.query(`SELECT status, message_id FROM email_notices`);
  const byStatus: Record<string, number> = {};
  for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const sentIds = new Set(rows.filter((r) => r.status === 'sent').map((r) => r.message_id!));
  const storedIds = new Set(mail.messages.map((m) => m.messageId));
  return {
    byStatus,
    delivered: mail.messages.length,
    duplicates: mail.duplicates(),
    sentButMissing: [...sentIds].filter((id) => !storedIds.has(id)),
    deliveredButNotSent: [...storedIds].filter((id) => !sentIds.has(id)),
  };
}

export async function pendingNotices(ds: DataSource): Promise<number> {
  const [r] = await ds.query(`SELECT count(*)::int AS n FROM email_notices WHERE status = 'pending'`);
  return r.n as number;
}

/** Pending notices that are due now; a notice deferred to later (a void waiting for its issue email) is not. */
export async function dueNotices(ds: DataSource): Promise<number> {
  const [r] = await ds.query(`SELECT count(*)::int AS n FROM email_notices WHERE status = 'pending' AND next_attempt_at <= now()`);
  return r.n as number;
}
