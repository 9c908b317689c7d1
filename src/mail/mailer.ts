import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import type { NoticeKind } from '../billing/notice-kinds';
import { getContact } from '../db/billing-contacts';
import { findInvoice } from '../db/invoice-rows';
import { chooseRecipient, decideDelivery, retryDelaySeconds, type NoticeStatus } from './delivery';
import { renderNotice } from './render-notice';
import { classifySendError, type MailTransport } from './transport';

export interface MailerOptions {
  ds: DataSource;
  transport: MailTransport;
  logger: Logger;
  /** MAIL_FROM, already validated; the display name is also the company name in the emails. */
  from: { name: string | null; address: string };
  maxAttempts: number;
  maxBackoffSeconds: number;
  concurrency: number;
  pollIntervalMs: number;
  nowSeconds?: () => number;
}

interface ClaimedNotice {
  id: string;
  stripe_invoice_id: string;
  kind: NoticeKind;
  sequence: number;
  attempts: number;
}

type Step = 'sent' | 'skipped' | 'retry' | 'failed' | 'deferred' | 'idle';

/**
 * Sends the outbox. A notice is claimed with FOR UPDATE SKIP LOCKED and its row stays locked
 * while the message goes out, so two mailers never send the same notice. If the process dies
 * after the server accepted but before the commit, the notice is sent again with the same
 * Message-ID: the one duplicate window, recognisable downstream.
 */
export class Mailer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private stopping = false;

  constructor(private readonly o: MailerOptions) {}

  private now(): number {
    return (this.o.nowSeconds ?? (() => Math.floor(Date.now() / 1000)))();
  }

  /** A stable id per notice, so a resend after a crash carries the same Message-ID. */
  messageIdFor(n: Pick<ClaimedNotice, 'id' | 'kind' | 'sequence' | 'stripe_invoice_id'>): string {
    const domain = this.o.from.address.slice(this.o.from.address.lastIndexOf('@') + 1);
    return `<notice-${n.id}.${n.kind}.${n.sequence}.${n.stripe_invoice_id}@${domain}>`;
  }

  /** Delivers or settles one due notice. */
  async step(): Promise<Step> {
    const now = this.now();
    return this.o.ds.transaction(async (db) => {
      const rows: ClaimedNotice[] = await db.query(
        `SELECT id, stripe_invoice_id, kind, sequence, attempts FROM email_notices
          WHERE status = 'pending' AND next_attempt_at <= to_timestamp($1)
          ORDER BY next_attempt_at, id
          LIMIT 1
          FOR UPDATE SKIP LOCKED`,
        [now],
      );
      const notice = rows[0];
      if (!notice) return 'idle';
      return this.deliver(db, notice, now);
    });
  }

  private async deliver(db: EntityManager, n: ClaimedNotice, now: number): Promise<Step> {
    const log = this.o.logger.child({ noticeId: n.id, invoiceId: n.stripe_invoice_id, kind: n.kind, sequence: n.sequence });
    const invoice = await findInvoice(db, n.stripe_invoice_id);
    const issued = n.kind === 'invoice_voided' ? await issuedStatus(db, n.stripe_invoice_id) : null;
    const decision = decideDelivery(n.kind, invoice, issued, now);
    if (decision.action === 'skip') return this.settle(db, n, 'skipped', decision.reason, log);
    if (decision.action === 'defer') {
      await db.query(`UPDATE email_notices SET next_attempt_at = to_timestamp($2), updated_at = now() WHERE id = $1`, [n.id, decision.untilSeconds]);
      return 'deferred';
    }
    const recipient = chooseRecipient(await getContact(db, invoice!.stripeCustomerId), invoice!);
    if (recipient === null) return this.settle(db, n, 'skipped', 'no_recipient', log);

    const messageId = this.messageIdFor(n);
    let rendered;
    try {
      rendered = renderNotice({ kind: n.kind, sequence: n.sequence, invoice: invoice!, nowSeconds: now, companyName: this.o.from.name ?? 'Billing' });
    } catch (err) {
      return this.settle(db, n, 'failed', `cannot render: ${(err as Error).message}`, log);
    }
    const attempts = n.attempts + 1;
    try {
      const reply = await this.o.transport.send({ from: this.o.from, to: recipient, messageId, ...rendered });
      await db.query(
        `UPDATE email_notices SET status = 'sent', attempts = $2, recipient = $3, message_id = $4, sent_at = to_timestamp($5),
                last_error = NULL, updated_at = now() WHERE id = $1`,
        [n.id, attempts, recipient, messageId, now],
      );
      log.info({ outcome: 'sent', messageId, reply: reply.slice(0, 200) }, 'notice sent');
      return 'sent';
    } catch (err) {
      const failure = classifySendError(err);
      if (failure.permanent || attempts >= this.o.maxAttempts) {
        await db.query(
          `UPDATE email_notices SET status = 'failed', attempts = $2, recipient = $3, message_id = $4, last_error = $5, updated_at = now() WHERE id = $1`,
          [n.id, attempts, recipient, messageId, failure.message],
        );
        log.error({ outcome: 'failed', attempts, reason: failure.message }, 'notice failed');
        return 'failed';
      }
      const retryAt = now + retryDelaySeconds(attempts, this.o.maxBackoffSeconds);
      await db.query(
        `UPDATE email_notices SET attempts = $2, recipient = $3, message_id = $4, last_error = $5, next_attempt_at = to_timestamp($6), updated_at = now() WHERE id = $1`,
        [n.id, attempts, recipient, messageId, failure.message, retryAt],
      );
      log.warn({ outcome: 'retry', attempts, retryAt, reason: failure.message }, 'notice will be retried');
      return 'retry';
    }
  }

  private async settle(db: EntityManager, n: ClaimedNotice, status: 'skipped' | 'failed', reason: string, log: Logger): Promise<Step> {
    await db.query(`UPDATE email_notices SET status = $2, last_error = $3, updated_at = now() WHERE id = $1`, [n.id, status, reason]);
    log.info({ outcome: status, reason }, `notice ${status}`);
    return status;
  }

  /** Works through every notice that is due now, `concurrency` at a time; returns how many it settled. */
  async drain(): Promise<number> {
    let handled = 0;
    await Promise.all(
      Array.from({ length: this.o.concurrency }, async () => {
        for (;;) {
          const step = await this.step();
          if (step === 'idle' || this.stopping) return;
          handled++;
        }
      }),
    );
    return handled;
  }

  start(): void {
    this.stopped = false;
    this.stopping = false;
    const tick = () => {
      this.running = this.drain()
        .then(() => undefined)
        .catch((err: Error) => this.o.logger.error({ err: err.message }, 'mailer pass failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.o.pollIntervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    this.o.transport.close();
  }
}

async function issuedStatus(db: EntityManager, stripeInvoiceId: string): Promise<NoticeStatus | null> {
  const rows: { status: NoticeStatus }[] = await db.query(
    `SELECT status FROM email_notices WHERE stripe_invoice_id = $1 AND kind = 'invoice_issued' AND sequence = 0`,
    [stripeInvoiceId],
  );
  return rows[0]?.status ?? null;
}
