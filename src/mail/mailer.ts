import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { wallClock } from '../clock';
import { getContact } from '../db/billing-contacts';
import { findInvoice } from '../db/invoices';
import { noticeMessageId } from './message-id';
import {
  claimDueNotice,
  deferNotice,
  markFailed,
  markSent,
  noticeHistoryOf,
  scheduleRetry,
  settleNotice,
  type ClaimedNotice,
  type SendAttempt,
} from '../db/notice-outbox';
import { chooseRecipient, decideDelivery, reminderNumber, retryDelaySeconds } from './delivery';
import { paymentFactsOf } from './payment-facts';
import { renderNotice } from './render-notice';
import { classifySendError, type MailTransport } from './transport';
import { noMetrics, type Metrics, type NoticeOutcome } from '../metrics/metrics';

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
  /** RECEIPT_WAIT_SECONDS: how long after it was queued a receipt (invoice_paid) waits for its charge's receipt link. */
  receiptWaitSeconds: number;
  nowSeconds?: () => number;
  /** Counts each notice's settled outcome (billing_notices_total); default noMetrics. */
  metrics?: Metrics;
}

interface SentMessage extends SendAttempt {
  sentAt: number;
}

/** The longest wait between two passes while the database does not answer. */
const MAX_FAILED_PASS_BACKOFF_MS = 10_000;

type Step = 'sent' | 'skipped' | 'retry' | 'failed' | 'deferred' | 'idle';

/**
 * What each step counts as. A deferred notice (a receipt waiting for its charge's link) is neither
 * sent nor refused yet, so it is not counted until it is.
 */
const COUNTED: Partial<Record<Step, NoticeOutcome>> = { sent: 'sent', skipped: 'skipped', failed: 'failed', retry: 'retried' };

/**
 * Sends the outbox. A notice is claimed with FOR UPDATE SKIP LOCKED and its row stays locked
 * while the message goes out, so two mailers never send the same notice; and only an invoice's
 * earliest due notice is claimed, so one invoice's notices go out one at a time, in order, each
 * seeing the others (the one email a day rule holds with many mailers and lanes). If the process dies
 * after the server accepted but before the commit, the notice is sent again with the same
 * Message-ID: the one duplicate window, recognisable downstream.
 */
export class Mailer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private stopping = false;
  /** Notices the SMTP server accepted whose transaction has not committed yet, by notice id. */
  private readonly unrecorded = new Map<string, SentMessage>();

  constructor(private readonly o: MailerOptions) {}

  private now(): number {
    return (this.o.nowSeconds ?? wallClock)();
  }

  /** Delivers or settles one due notice. */
  async step(): Promise<Step> {
    const now = this.now();
    let claimed: ClaimedNotice | undefined;
    const step = await this.o.ds.transaction(async (db): Promise<Step> => {
      const notice = await claimDueNotice(db, now);
      if (!notice) return 'idle';
      claimed = notice;
      return this.deliver(db, notice, now);
    });
    // Committed: whatever was sent is on record now, and counted once.
    if (claimed !== undefined) {
      this.unrecorded.delete(claimed.id);
      const counted = COUNTED[step];
      if (counted) (this.o.metrics ?? noMetrics).notice(claimed.kind, counted);
    }
    return step;
  }

  private async deliver(db: EntityManager, n: ClaimedNotice, now: number): Promise<Step> {
    const log = this.o.logger.child({ noticeId: n.id, invoiceId: n.stripeInvoiceId, kind: n.kind, sequence: n.sequence });
    const remembered = this.unrecorded.get(n.id);
    if (remembered) return this.recordSent(db, n, remembered, 'accepted before the database failed; not sent again', log);
    const invoice = await findInvoice(db, n.stripeInvoiceId);
    const others = ((await noticeHistoryOf(db, [n.stripeInvoiceId])).get(n.stripeInvoiceId) ?? []).filter((o) => o.id !== n.id);
    const facts = await paymentFactsOf(db, n, invoice, this.o.receiptWaitSeconds);
    const decision = decideDelivery(n.kind, invoice, { others, ...facts.context }, now);
    if (decision.action === 'skip') return this.settle(db, n, 'skipped', decision.reason, log);
    if (decision.action === 'defer') {
      await deferNotice(db, n.id, decision.untilSeconds);
      return 'deferred';
    }
    const recipient = chooseRecipient(await getContact(db, invoice!.stripeCustomerId), invoice!);
    if (recipient === null) return this.settle(db, n, 'skipped', 'no_recipient', log);

    const messageId = noticeMessageId({ id: n.id, kind: n.kind, sequence: n.sequence, stripe_invoice_id: n.stripeInvoiceId, subject: n.subject }, this.o.from.address);
    let rendered;
    try {
      rendered = renderNotice({
        kind: n.kind,
        sequence: n.sequence,
        reminderNumber: reminderNumber(others, recipient),
        invoice: invoice!,
        nowSeconds: now,
        companyName: this.o.from.name ?? 'Billing',
        ...(facts.payment ? { payment: facts.payment } : {}),
      });
    } catch (err) {
      return this.settle(db, n, 'failed', `cannot render: ${(err as Error).message}`, log);
    }
    const attempts = n.attempts + 1;
    let reply: string;
    try {
      reply = await this.o.transport.send({ from: this.o.from, to: recipient, messageId, ...rendered });
    } catch (err) {
      return this.recordSendFailure(db, n, { attempts, recipient, messageId, sentAt: now }, err, now, log);
    }
    // The server has the message. Until the commit it is remembered here, so that a database that
    // fails from now on costs a later UPDATE, not a second email; the window left is this process
    // dying before its commit (a resend then carries the same Message-ID).
    const sent = { attempts, recipient, messageId, sentAt: now };
    this.unrecorded.set(n.id, sent);
    return this.recordSent(db, n, sent, reply, log);
  }

  private async recordSent(db: EntityManager, n: ClaimedNotice, s: SentMessage, reply: string, log: Logger): Promise<Step> {
    await markSent(db, n.id, s, s.sentAt);
    log.info({ outcome: 'sent', messageId: s.messageId, reply: reply.slice(0, 200) }, 'notice sent');
    return 'sent';
  }

  private async recordSendFailure(db: EntityManager, n: ClaimedNotice, s: SentMessage, err: unknown, now: number, log: Logger): Promise<Step> {
    const failure = classifySendError(err);
    if (failure.permanent || s.attempts >= this.o.maxAttempts) {
      await markFailed(db, n.id, s, failure.message);
      log.error({ outcome: 'failed', attempts: s.attempts, reason: failure.message }, 'notice failed');
      return 'failed';
    }
    const retryAt = now + retryDelaySeconds(s.attempts, this.o.maxBackoffSeconds);
    await scheduleRetry(db, n.id, s, failure.message, retryAt);
    log.warn({ outcome: 'retry', attempts: s.attempts, retryAt, reason: failure.message }, 'notice will be retried');
    return 'retry';
  }

  private async settle(db: EntityManager, n: ClaimedNotice, status: 'skipped' | 'failed', reason: string, log: Logger): Promise<Step> {
    await settleNotice(db, n.id, status, reason);
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

  /**
   * Polls every pollIntervalMs. A pass fails as a whole only when the database does not answer:
   * then the next one waits twice as long (up to MAX_FAILED_PASS_BACKOFF_MS), and the outage is
   * logged once when it starts and once when it ends, not at every poll.
   */
  start(): void {
    this.stopped = false;
    this.stopping = false;
    let failedPasses = 0;
    const tick = () => {
      this.running = this.drain()
        .then(() => {
          if (failedPasses > 0) this.o.logger.info({ failedPasses }, 'mailer passes succeed again');
          failedPasses = 0;
        })
        .catch((err: Error) => {
          if (failedPasses === 0) this.o.logger.error({ err: err.message }, 'mailer pass failed; retrying with backoff');
          failedPasses++;
        })
        .finally(() => {
          const wait = Math.min(this.o.pollIntervalMs * 2 ** failedPasses, Math.max(this.o.pollIntervalMs, MAX_FAILED_PASS_BACKOFF_MS));
          if (!this.stopped) this.timer = setTimeout(tick, wait);
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
