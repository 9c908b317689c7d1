import type { Context, ScheduledEvent } from 'aws-lambda';
import type { DataSource } from 'typeorm';
import { ConfigError, type Config } from '../config';
import { parseMailFrom } from '../mail/address';
import { Mailer } from '../mail/mailer';
import { loadNoticeTemplates } from '../mail/render-notice';
import { smtpTransport } from '../mail/transport';
import { oldestDueNoticeSeconds } from '../db/notice-outbox';
import type { LambdaRuntime } from './runtime';

/** Stops starting new sends this long before the function's timeout, so a send in flight can finish and commit. */
export const MAILER_SAFETY_MS = 15_000;

export interface MailerRun {
  sent: number;
  /** Every notice this run decided on: sent, skipped, failed, retried later or deferred. */
  handled: number;
  /** True when the time ran out before the outbox was empty; the next scheduled run goes on. */
  timedOut: boolean;
}

function mailerOf(rt: LambdaRuntime, config: Config, ds: DataSource): Mailer {
  const smtpUrl = config.mail.smtpUrl!;
  let from: ReturnType<typeof parseMailFrom>;
  try {
    from = parseMailFrom(config.mail.from);
  } catch (err) {
    throw new ConfigError(`MAIL_FROM: ${(err as Error).message}`);
  }
  const m = config.mail;
  // The DataSource is part of the key: a rotated DATABASE_URL replaces it, and the mailer with it.
  const key = [config.databaseUrl, smtpUrl, m.from, m.maxAttempts, m.maxBackoffSeconds, m.receiptWaitSeconds].join(' ');
  return rt.reuse(
    'mailer',
    key,
    () => {
      // A missing template should fail the first run loudly, not each notice as it comes due.
      loadNoticeTemplates();
      return new Mailer({
        ds,
        transport: smtpTransport(smtpUrl),
        logger: rt.logger(config),
        from,
        maxAttempts: m.maxAttempts,
        maxBackoffSeconds: m.maxBackoffSeconds,
        concurrency: m.concurrency,
        pollIntervalMs: m.pollIntervalMs,
        receiptWaitSeconds: m.receiptWaitSeconds,
        metrics: rt.metrics(),
      });
    },
    (mailer) => mailer.stop(),
  );
}

/**
 * EventBridge schedule (every minute) → sends the due notices of the outbox, MAILER_CONCURRENCY at
 * a time, each claimed with SKIP LOCKED (overlapping runs never send one notice twice), until the
 * outbox is idle or the function's time is nearly up. Each run ends by sampling how long the
 * oldest notice still due has waited (billing_outbox_oldest_pending_seconds).
 */
export function mailerHandler(rt: LambdaRuntime) {
  return async (_event: ScheduledEvent, context: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>): Promise<MailerRun> => {
    const config = await rt.config(['database', 'smtp']);
    const ds = await rt.dataSource();
    const mailer = mailerOf(rt, config, ds);
    const deadline = Date.now() + context.getRemainingTimeInMillis() - MAILER_SAFETY_MS;
    return rt.measured(async (metrics) => {
      const run: MailerRun = { sent: 0, handled: 0, timedOut: false };
      await Promise.all(
        Array.from({ length: config.mail.concurrency }, async () => {
          for (;;) {
            if (Date.now() >= deadline) {
              run.timedOut = true;
              return;
            }
            const step = await mailer.step();
            if (step === 'idle') return;
            run.handled++;
            if (step === 'sent') run.sent++;
          }
        }),
      );
      metrics.outboxOldestPending(await oldestDueNoticeSeconds(ds.manager, Date.now() / 1000));
      rt.logger(config).info({ requestId: context.awsRequestId, ...run }, 'mailer run');
      return run;
    });
  };
}
