// NOTICE_KINDS: an operator turns kinds off (Stripe may already send some of them). A kind that is
// off is never queued, neither by the consumer nor by the sweep; the others behave as usual.
import { loadConfig, ConfigError } from '../../src/config';
import { NOTICE_KINDS } from '../../src/billing/notice-kinds';
import { sweepInvoices } from '../../src/sweep/invoice-sweep';
import { noticePolicy } from '../../src/effects/notice-effects';
import { startProcessor } from '../support/processor';
import { paidLifecycle, uid } from '../support/stripe-events';
import type { StripeEvent } from '../integration/helpers';
import { DAY, deliverAll, drainOnce, finalizedEvent, noticeRows, openInvoice, useNoticeWorld, summary, wallNow, withFields } from './harness';

const world = useNoticeWorld();

const enabled = () => world().processor.config.mail.enabledKinds;
const policy = () => noticePolicy(world().processor.config);
const drain = (at = wallNow() + 1) => drainOnce(world().db.ds, world().smtp.url, { now: () => at, concurrency: 1 });

/** A paid lifecycle in three stages, with a mailer pass after each, as in real time. */
async function paidInStages() {
  const id = uid('in');
  const recipient = `ap.${id.slice(-8)}@customer.test`;
  const events = withFields(paidLifecycle(id, wallNow() - 600, { customer: uid('cus') }), { customer_email: recipient });
  for (const stage of [events.slice(0, 2), events.slice(2, 4), events.slice(4)] as StripeEvent[][]) {
    await deliverAll(world(), stage);
    await drain();
  }
  return { id, recipient };
}

/** Open send_invoice invoices: one past due by two days (overdue now), one due in two days (due_soon now). */
async function dunnable() {
  const now = wallNow();
  const late = openInvoice({ dueDate: now - 2 * DAY, finalizedAt: now - 20 * DAY });
  const soon = openInvoice({ dueDate: now + 2 * DAY, finalizedAt: now - 20 * DAY });
  await deliverAll(world(), [finalizedEvent(late), finalizedEvent(soon)]);
  return { now, late: late['id'] as string, soon: soon['id'] as string, soonDue: now + 2 * DAY };
}

describe('NOTICE_KINDS=invoice_paid,overdue', () => {
  beforeAll(async () => {
    await world().restartProcessor({ NOTICE_KINDS: 'invoice_paid, overdue' });
  });

  it('queues and sends only the receipt of a paid lifecycle', async () => {
    expect([...enabled()].sort()).toEqual(['invoice_paid', 'overdue']);
    const { id, recipient } = await paidInStages();
    expect(summary(await noticeRows(world().db.ds, [id]))).toEqual(['invoice_paid#0 sent']);
    expect(world().smtp.to(recipient).map((m) => m.subject)).toEqual([expect.stringMatching(/^Receipt for invoice /)]);
  });

  it('dunning: overdue is queued, due_soon is not, neither by the consumer nor by the sweep', async () => {
    const { late, soon, soonDue } = await dunnable();
    expect(summary(await noticeRows(world().db.ds, [late]))).toEqual(['overdue#0 pending']);
    expect(await noticeRows(world().db.ds, [soon])).toEqual([]);

    await sweepInvoices(world().db.ds, soonDue - DAY, policy());
    expect(await noticeRows(world().db.ds, [soon])).toEqual([]);
    // The turned-off stage does not hold back the next one.
    await sweepInvoices(world().db.ds, soonDue + DAY, policy());
    expect(summary(await noticeRows(world().db.ds, [soon]))).toEqual(['overdue#0 pending']);
    await drain(soonDue + DAY);
    expect(summary(await noticeRows(world().db.ds, [late, soon]))).toEqual(['overdue#0 sent', 'overdue#0 sent']);
    // Weekly reminders are their own kind, and off.
    await sweepInvoices(world().db.ds, soonDue + 30 * DAY, policy());
    expect(summary(await noticeRows(world().db.ds, [late, soon]))).toEqual(['overdue#0 sent', 'overdue#0 sent']);
  });
});

describe('NOTICE_KINDS=none', () => {
  beforeAll(async () => {
    await world().restartProcessor({ NOTICE_KINDS: 'none' });
  });

  it('queues nothing at all', async () => {
    expect(enabled().size).toBe(0);
    const { id } = await paidInStages();
    const { late, soon, soonDue } = await dunnable();
    await sweepInvoices(world().db.ds, soonDue + 9 * DAY, policy());
    expect(await noticeRows(world().db.ds, [id, late, soon])).toEqual([]);
    expect(world().smtp.messages).toEqual([]);
  });
});

describe('NOTICE_KINDS unset (all kinds)', () => {
  beforeAll(async () => {
    await world().restartProcessor({});
  });

  it('queues every event-driven kind of a paid lifecycle', async () => {
    expect([...enabled()].sort()).toEqual([...NOTICE_KINDS].sort());
    const { id, recipient } = await paidInStages();
    expect(summary(await noticeRows(world().db.ds, [id]))).toEqual(['invoice_issued#0 sent', 'invoice_paid#0 sent', 'payment_failed#1 sent']);
    expect(world().smtp.to(recipient)).toHaveLength(3);
  });
});

describe('a bad NOTICE_KINDS', () => {
  it.each(['invoice_isued', 'all,invoice_paid', 'overdue;due_soon'])('%s is refused at startup, naming the variable', async (value) => {
    expect(() => loadConfig({ NOTICE_KINDS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ NOTICE_KINDS: value })).toThrow(/NOTICE_KINDS: unknown kind/);
    await expect(
      startProcessor({ databaseUrl: world().db.url, queueUrl: world().sqs.queueUrl, dlqUrl: world().sqs.dlqUrl, endpoint: world().sqs.endpoint, env: { NOTICE_KINDS: value } }),
    ).rejects.toThrow(/NOTICE_KINDS/);
  });
});
