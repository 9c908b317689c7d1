import { applyEvent } from '../support/apply-event';
import { noticeEffects } from '../../src/effects/notice-effects';
import { ALL_NOTICES } from '../support/notice-policy';
import { findInvoice } from '../../src/db/invoices';
import { LambdaRuntime } from '../../src/lambda/runtime';
import { mailerHandler, MAILER_SAFETY_MS } from '../../src/lambda/mailer';
import { sweepHandler } from '../../src/lambda/sweep';
import { consumerHandler } from '../../src/lambda/consumer';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { paidLifecycle, uid } from '../support/stripe-events';
import { captureLogs, lambdaContext, noAwsStores, receiveBatch, scheduledEvent, settleLikeLambda } from './events';

const DAY = 86_400;
let db: TestDatabase;
let sqs: TestSqs;
let smtp: SmtpSink;
let rt: LambdaRuntime;

beforeAll(async () => {
  db = await createTestDatabase(3);
  sqs = await startTestSqs();
  smtp = await startSmtpSink();
  rt = new LambdaRuntime({
    env: {
      AWS_REGION: 'us-east-1',
      DATABASE_URL: db.url,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Acme Billing <billing@acme.test>',
      NOTICE_KINDS: 'all',
      LOG_LEVEL: 'info',
    },
    stores: noAwsStores,
    logDestination: captureLogs().destination,
  });
});
afterAll(async () => {
  await rt?.close();
  await smtp?.close();
  await sqs?.stop();
  await db?.drop();
});

/** A send_invoice invoice, created and finalized at `start` (default 30 days before it is due), with the customer's address on it. */
function issuedInvoice(dueDate: number, email: string, start = dueDate - 30 * DAY) {
  const id = uid('in');
  const events = paidLifecycle(id, start, { dueDate, amount: 4200 });
  for (const e of events) (e['data'] as { object: Record<string, unknown> }).object['customer_email'] = email;
  return { id, events };
}

describe('the sweep function (schedule)', () => {
  it('flags an invoice whose due date passed while no event came, once', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { id, events } = issuedInvoice(now - DAY, `late-${uid('c')}@example.com`);
    // Merged while it was not yet due: only time makes it overdue, and Stripe sends nothing for that.
    for (const e of events.slice(0, 2)) {
      await applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => now - 2 * DAY, effects: { notices: noticeEffects(ALL_NOTICES) } });
    }
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'open', overdue: false });

    const first = await sweepHandler(rt)(scheduledEvent('stripe-billing-test-sweep'), lambdaContext('sweep'));
    expect(first.flagged).toBeGreaterThanOrEqual(1);
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ overdue: true });
    const [queued] = await db.ds.query(`SELECT count(*)::int AS n FROM email_notices WHERE stripe_invoice_id = $1 AND kind = 'overdue'`, [id]);
    expect(queued.n).toBe(1);

    const second = await sweepHandler(rt)(scheduledEvent('stripe-billing-test-sweep'), lambdaContext('sweep'));
    expect(second.flagged).toBe(0);
  });
});

describe('the sweep function with EVENT_PAYLOAD_RETENTION_DAYS, as serverless.yml passes it', () => {
  it('prunes the payloads of processed events older than the retention, and no others', async () => {
    const retained = new LambdaRuntime({
      env: { AWS_REGION: 'us-east-1', DATABASE_URL: db.url, NOTICE_KINDS: 'all', EVENT_PAYLOAD_RETENTION_DAYS: '30' },
      stores: noAwsStores,
      logDestination: captureLogs().destination,
    });
    try {
      const now = Math.floor(Date.now() / 1000);
      const [old, recent] = [uid('in'), uid('in')];
      for (const [id, at] of [[old, now - 40 * DAY], [recent, now - DAY]] as const) {
        for (const e of paidLifecycle(id, at, { amount: 100 }).slice(0, 1)) await applyEvent(db.ds, JSON.stringify(e));
      }
      await db.ds.query(`UPDATE stripe_events SET processed_at = now() - interval '40 days' WHERE stripe_invoice_id = $1`, [old]);

      const result = await sweepHandler(retained)(scheduledEvent('stripe-billing-test-sweep'), lambdaContext('sweep'));
      expect(result.eventPayloadsPruned).toBeGreaterThanOrEqual(1);
      const rows: Array<{ id: string; pruned: boolean }> = await db.ds.query(
        `SELECT stripe_invoice_id AS id, payload IS NULL AS pruned FROM stripe_events WHERE stripe_invoice_id = ANY($1::text[])`,
        [[old, recent]],
      );
      expect(rows.sort((a, b) => (a.id === old ? -1 : b.id === old ? 1 : 0))).toEqual([{ id: old, pruned: true }, { id: recent, pruned: false }]);
    } finally {
      await retained.close();
    }
  });
});

describe('the mailer function (schedule)', () => {
  it('sends the notices the consumer queued, each once', async () => {
    const email = `customer-${uid('c')}@example.com`;
    const now = Math.floor(Date.now() / 1000);
    const { id, events } = issuedInvoice(now + 14 * DAY, email, now - 60);
    for (const e of events.slice(0, 2)) await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(e));
    const batch = await receiveBatch(sqs.client, sqs.queueUrl, 2);
    const answer = await consumerHandler(rt)(batch, lambdaContext('consumer'));
    expect(answer.batchItemFailures).toEqual([]);
    await settleLikeLambda(sqs.client, sqs.queueUrl, batch, answer);

    const run = await mailerHandler(rt)(scheduledEvent('stripe-billing-test-mailer'), lambdaContext('mailer', 60_000));
    expect(run).toMatchObject({ timedOut: false });
    expect(run.sent).toBeGreaterThanOrEqual(1);
    const received = smtp.to(email);
    expect(received).toHaveLength(1);
    expect(received[0]!.subject).toMatch(/invoice/i);
    expect(received[0]!.text).toContain('42.00');
    const [row] = await db.ds.query(`SELECT status, message_id FROM email_notices WHERE stripe_invoice_id = $1 AND kind = 'invoice_issued'`, [id]);
    expect(row).toMatchObject({ status: 'sent', message_id: received[0]!.messageId });

    const again = await mailerHandler(rt)(scheduledEvent('stripe-billing-test-mailer'), lambdaContext('mailer', 60_000));
    expect(again.sent).toBe(0);
    expect(smtp.to(email)).toHaveLength(1);
  });

  it('starts no send when the function has too little time left, and says so', async () => {
    const email = `hurried-${uid('c')}@example.com`;
    const now = Math.floor(Date.now() / 1000);
    const { events } = issuedInvoice(now + 14 * DAY, email, now - 60);
    for (const e of events.slice(0, 2)) await applyEvent(db.ds, JSON.stringify(e), { effects: { notices: noticeEffects(ALL_NOTICES) } });
    const run = await mailerHandler(rt)(scheduledEvent('stripe-billing-test-mailer'), lambdaContext('mailer', MAILER_SAFETY_MS - 1000));
    expect(run).toEqual({ sent: 0, handled: 0, timedOut: true });
    expect(smtp.to(email)).toHaveLength(0);
    // The next scheduled run, with time to spare, sends it.
    await mailerHandler(rt)(scheduledEvent('stripe-billing-test-mailer'), lambdaContext('mailer', 60_000));
    expect(smtp.to(email)).toHaveLength(1);
  });

  it('refuses to run without SMTP_URL rather than write .eml files a container would lose', async () => {
    const noSmtp = new LambdaRuntime({ env: { DATABASE_URL: db.url, LOG_LEVEL: 'silent' }, stores: noAwsStores });
    await expect(mailerHandler(noSmtp)(scheduledEvent('stripe-billing-test-mailer'), lambdaContext('mailer'))).rejects.toThrow(/SMTP_URL is not set/);
    await noSmtp.close();
  });
});
