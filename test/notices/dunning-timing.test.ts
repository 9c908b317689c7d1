// Dunning over simulated weeks: the consumer reviews an invoice when its events arrive (on the
// wall clock), then the sweep (sweepInvoices) and the Mailer run on a clock the test moves. Each
// invoice has its own mailbox, so each test reads only its own mail.
import { ALL_NOTICES } from '../support/notice-policy';
import { daysPastDue } from '../../src/billing/days';
import { sweepInvoices } from '../../src/sweep/invoice-sweep';
import { event } from '../support/stripe-events';
import {
  DAY,
  deliverAll,
  drainOnce,
  finalizedEvent,
  noticeRows,
  openInvoice,
  paidEvent,
  startNoticeWorld,
  wallNow,
  type NoticeRow,
  type NoticeWorld,
} from './harness';

let world: NoticeWorld;
const ALL = ALL_NOTICES;

beforeAll(async () => {
  world = await startNoticeWorld();
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => world.smtp.clear());

/** An open send_invoice invoice, received now; returns what the tests need to follow it. */
async function receive(o: { dueDate: number; finalizedAt: number; currency?: string; amount?: number }) {
  const inv = openInvoice({ dueDate: o.dueDate, finalizedAt: o.finalizedAt, collectionMethod: 'send_invoice', currency: o.currency, amount: o.amount });
  await deliverAll(world, [finalizedEvent(inv)]);
  return { inv, id: inv['id'] as string, recipient: inv['customer_email'] as string, number: inv['number'] as string, due: o.dueDate };
}

/** The sweep and then a mailer pass, both at `at`; one lane, so mail arrives in outbox order. */
async function tick(at: number) {
  await sweepInvoices(world.db.ds, at, ALL);
  await drainOnce(world.db.ds, world.smtp.url, { now: () => at, concurrency: 1 });
}

const DUNNING = new Set(['due_soon', 'overdue', 'overdue_reminder']);
const dunningRows = async (id: string) => (await noticeRows(world.db.ds, [id])).filter((r) => DUNNING.has(r.kind));
const label = (r: NoticeRow) => `${r.kind}#${r.sequence} ${r.status}`;
const overdueFlag = async (id: string) =>
  ((await world.db.ds.query(`SELECT overdue FROM invoices WHERE stripe_invoice_id = $1`, [id])) as { overdue: boolean }[])[0]!.overdue;

it('due_soon 3 days before, overdue 1 day after, then weekly reminders, each once and on time', async () => {
  const now = wallNow();
  const due = now + 10 * DAY;
  const { inv, id, recipient, number } = await receive({ dueDate: due, finalizedAt: now - 60 });
  const subjects = async () => world.smtp.to(recipient).map((m) => m.subject);

  await tick(wallNow() + 1);
  expect(await subjects()).toEqual([expect.stringMatching(/^Invoice .* from Acme Billing: \$12\.34 due/)]);
  world.smtp.clear();

  await tick(due - 3 * DAY - 1);
  expect(await dunningRows(id)).toEqual([]);
  await tick(due - 3 * DAY);
  expect(await subjects()).toEqual([`Invoice ${number} is due in 3 days`]);
  expect(world.smtp.to(recipient)[0]!.text).toContain(`Pay now: https://invoice.stripe.com/i/${id}`);
  await tick(due - 3 * DAY + 3600);
  await tick(due - 2 * DAY);

  // Past the due date the invoice is flagged overdue, but the overdue email waits one day.
  await tick(due + 60);
  expect(await overdueFlag(id)).toBe(true);
  await tick(due + DAY - 1);
  expect((await dunningRows(id)).map(label)).toEqual(['due_soon#0 sent']);
  await tick(due + DAY);
  expect(await subjects()).toEqual([`Invoice ${number} is due in 3 days`, `Invoice ${number} is 1 day overdue`]);
  expect(world.smtp.to(recipient)[1]!.text).toContain(`Pay overdue invoice: https://invoice.stripe.com/i/${id}`);

  await tick(due + 8 * DAY - 1);
  await tick(due + 8 * DAY);
  await tick(due + 8 * DAY + 7200);
  await tick(due + 15 * DAY);
  const mails = world.smtp.to(recipient);
  expect(mails.map((m) => m.subject)).toEqual([
    `Invoice ${number} is due in 3 days`,
    `Invoice ${number} is 1 day overdue`,
    `Reminder: invoice ${number} is 8 days overdue`,
    `Reminder: invoice ${number} is 15 days overdue`,
  ]);
  // Counted from what the customer was sent: due_soon and overdue were the 1st and 2nd.
  expect(mails[2]!.text).toContain(`This is our 3rd reminder: invoice ${number} from Acme Billing is 8 days overdue.`);
  expect(mails[3]!.text).toContain('This is our 4th reminder');

  const rows = await dunningRows(id);
  expect(rows.map(label)).toEqual(['due_soon#0 sent', 'overdue#0 sent', 'overdue_reminder#1 sent', 'overdue_reminder#2 sent']);
  expect(rows.map((r) => r.created_at)).toEqual([due - 3 * DAY, due + DAY, due + 8 * DAY, due + 15 * DAY]);

  // Paid: the reminders stop, and the customer gets a receipt instead.
  await deliverAll(world, [paidEvent(inv)]);
  await tick(due + 22 * DAY);
  await tick(due + 60 * DAY);
  expect((await dunningRows(id)).map(label)).toHaveLength(4);
  expect(world.smtp.to(recipient).map((m) => m.subject).slice(4)).toEqual([`Receipt for invoice ${number} from Acme Billing`]);
});

it('an invoice discovered long past due gets one email, which says it is overdue: not the invoice email, not the reminders it missed', async () => {
  const now = wallNow();
  const due = now - 30 * DAY;
  const { id, recipient, number } = await receive({ dueDate: due, finalizedAt: due - 14 * DAY });

  // Found 30 days late: due_soon, overdue and reminders 1-3 are history; reminder 4 applies, and
  // the invoice email, six weeks old, is not news.
  expect((await dunningRows(id)).map(label)).toEqual(['overdue_reminder#4 pending']);
  await tick(wallNow() + 1);
  await tick(now + 3600);
  await tick(now + DAY);
  const mails = world.smtp.to(recipient);
  expect(mails.map((m) => m.subject)).toEqual([`Invoice ${number} is 30 days overdue`]);
  // The first reminder the customer gets is not called their 4th.
  expect(mails[0]!.text).toContain(`Invoice ${number} from Acme Billing is 30 days overdue.`);
  expect(mails[0]!.text).not.toMatch(/our \d+\w\w reminder/);
  expect(mails[0]!.text).toContain(`Pay overdue invoice: https://invoice.stripe.com/i/${id}`);
  expect((await noticeRows(world.db.ds, [id])).map((r) => `${r.kind} ${r.status} ${r.last_error ?? ''}`.trim())).toContain('invoice_issued skipped stale');
  expect(await overdueFlag(id)).toBe(true);

  // The next one comes at the next weekly step, not before.
  const fifth = due + DAY + 5 * 7 * DAY;
  await tick(fifth - 1);
  expect((await dunningRows(id)).map(label)).toEqual(['overdue_reminder#4 sent']);
  await tick(fifth);
  expect((await dunningRows(id)).map(label)).toEqual(['overdue_reminder#4 sent', 'overdue_reminder#5 sent']);
  expect(world.smtp.to(recipient)).toHaveLength(2);
  expect(world.smtp.to(recipient)[1]!.text).toContain('This is our 2nd reminder');
});

it('after an outage, the sweep catches up with one notice per invoice, not a burst', async () => {
  const now = wallNow();
  const due = now + 4 * DAY;
  const { id, recipient } = await receive({ dueDate: due, finalizedAt: now - 60 });
  await tick(wallNow() + 1);
  world.smtp.clear();

  // Nobody swept for three weeks: due_soon, overdue and reminders 1-2 all went by unsent.
  const back = due + 16 * DAY;
  await tick(back);
  await tick(back + 60);
  expect((await dunningRows(id)).map(label)).toEqual(['overdue_reminder#2 sent']);
  expect(world.smtp.to(recipient).map((m) => m.subject)).toEqual([expect.stringMatching(/is 16 days overdue$/)]);
});

it('sends at most one dunning email per invoice per day, even when the next stage is already due', async () => {
  const now = wallNow();
  // Seven and a half days past due, issued long ago: overdue applies at discovery, and the first
  // weekly reminder's day begins twelve hours later.
  const due = now - 7.5 * DAY;
  const { id, recipient, number } = await receive({ dueDate: due, finalizedAt: due - 20 * DAY });
  const [overdue] = await dunningRows(id);
  expect(overdue).toMatchObject({ kind: 'overdue', sequence: 0 });
  // The day is counted from when the email went out.
  const sentAt = wallNow() + 1;
  const gapEnds = sentAt + DAY;

  await tick(sentAt);
  await tick(due + 8 * DAY);
  await tick(gapEnds - 1);
  expect((await dunningRows(id)).map(label)).toEqual(['overdue#0 sent']);
  await tick(gapEnds);
  const rows = await dunningRows(id);
  expect(rows.map(label)).toEqual(['overdue#0 sent', 'overdue_reminder#1 sent']);
  expect(rows[1]!.created_at - rows[0]!.created_at).toBeGreaterThanOrEqual(DAY);
  expect(world.smtp.to(recipient).map((m) => m.subject)).toEqual([
    `Invoice ${number} is ${daysPastDue(due, sentAt)} days overdue`,
    `Reminder: invoice ${number} is ${daysPastDue(due, gapEnds)} days overdue`,
  ]);
});

it('an invoice first seen hours after its due moment gets its invoice email, and the overdue email a day later', async () => {
  const now = wallNow();
  const due = now - 2 * 3600;
  // Net-20, finalized (and so news) two days ago, but first seen now: due_soon is over.
  const { id, recipient, number } = await receive({ dueDate: due, finalizedAt: now - 2 * DAY });
  // The mailer runs after the consumer's review, on the wall clock: a notice is not sent before it is queued.
  const sentAt = wallNow() + 1;
  await tick(sentAt);
  await tick(due + DAY);
  expect(world.smtp.to(recipient).map((m) => m.subject)).toEqual([expect.stringMatching(new RegExp(`^Invoice ${number} from Acme Billing`))]);
  // The invoice email went out at sentAt; the overdue one waits a day after it.
  await tick(sentAt + DAY - 1);
  expect(world.smtp.to(recipient)).toHaveLength(1);
  await tick(sentAt + DAY);
  const days = daysPastDue(due, sentAt + DAY);
  expect(world.smtp.to(recipient).map((m) => m.subject).slice(1)).toEqual([`Invoice ${number} is ${days} day${days === 1 ? '' : 's'} overdue`]);
  expect((await dunningRows(id)).map(label)).toEqual(['overdue#0 sent']);
});

it('an invoice first seen two days before its due date gets one email, not the invoice email and due_soon together', async () => {
  const now = wallNow();
  // Issued four weeks ago, never seen: the invoice email is old news; the reminder is what applies.
  const old = await receive({ dueDate: now + 2 * DAY, finalizedAt: now - 28 * DAY });
  // Issued 2½ days ago on 4½-day terms, first seen now: its invoice email gives the due date.
  const recent = await receive({ dueDate: now + 2 * DAY, finalizedAt: now - 2.5 * DAY });
  // The mailer runs after the consumer's review, on the wall clock: a notice is not sent before it is queued.
  await tick(wallNow() + 1);
  await tick(now + DAY);
  expect(world.smtp.to(old.recipient).map((m) => m.subject)).toEqual([`Invoice ${old.number} is due in 2 days`]);
  expect(world.smtp.to(recent.recipient).map((m) => m.subject)).toEqual([expect.stringMatching(new RegExp(`^Invoice ${recent.number} from Acme Billing: \\$12\\.34 due`))]);
  expect(world.smtp.to(recent.recipient)[0]!.text).toContain('Due date: ');
});

/** Two mailers of four lanes each, draining at once, as two `billing mailer` processes would. */
const racingMailers = (at: number) =>
  Promise.all([drainOnce(world.db.ds, world.smtp.url, { now: () => at, concurrency: 4 }), drainOnce(world.db.ds, world.smtp.url, { now: () => at, concurrency: 4 })]);

it('after a mail outage, what piled up goes out a day apart, in order, whatever the number of mailers', async () => {
  const now = wallNow();
  const due = now + 5 * DAY;
  const { id, recipient, number } = await receive({ dueDate: due, finalizedAt: now - 60 });
  // No mailer ran for a week (the mail server was down): the invoice email and overdue wait.
  await sweepInvoices(world.db.ds, due + DAY, ALL);
  expect((await noticeRows(world.db.ds, [id])).map((r) => `${r.kind} ${r.status}`)).toEqual(['invoice_issued pending', 'overdue pending']);
  const back = due + 2 * DAY;
  await racingMailers(back);
  await racingMailers(back + 10);
  expect(world.smtp.to(recipient).map((m) => m.subject)).toEqual([expect.stringMatching(new RegExp(`^Invoice ${number} from Acme Billing`))]);
  await racingMailers(back + DAY - 1);
  expect(world.smtp.to(recipient)).toHaveLength(1);
  await racingMailers(back + DAY);
  expect(world.smtp.to(recipient).map((m) => m.subject)).toEqual([expect.stringMatching(/from Acme Billing/), `Invoice ${number} is 3 days overdue`]);
});

it('news that comes with a reminder goes out after it, also with several mailers', async () => {
  const now = wallNow();
  const due = now - 3 * DAY;
  const inv = openInvoice({ dueDate: due, finalizedAt: due - 20 * DAY, collectionMethod: 'send_invoice' });
  const failed = { ...inv, attempt_count: 1 };
  // First seen through a failed payment, already overdue: the overdue email, then the news.
  await deliverAll(world, [event('invoice.payment_failed', failed, { created: now })]);
  const at = wallNow() + 1;
  await racingMailers(at);
  await racingMailers(at + 10);
  const recipient = inv['customer_email'] as string;
  expect(world.smtp.to(recipient).map((m) => m.subject)).toEqual([
    `Invoice ${inv['number'] as string} is 3 days overdue`,
    `Payment failed for invoice ${inv['number'] as string} from Acme Billing`,
  ]);
});

it('a reminder queued but overtaken by the payment is skipped as already_paid', async () => {
  const now = wallNow();
  const due = now - 2 * DAY;
  const { inv, id, recipient, number } = await receive({ dueDate: due, finalizedAt: due - 20 * DAY });
  expect((await dunningRows(id)).map(label)).toEqual(['overdue#0 pending']);

  await deliverAll(world, [paidEvent(inv)]);
  await drainOnce(world.db.ds, world.smtp.url, { now: () => wallNow() + 1 });
  const rows = await noticeRows(world.db.ds, [id]);
  expect(rows.map((r) => `${r.kind} ${r.status} ${r.last_error ?? ''}`.trim()).sort()).toEqual([
    'invoice_issued skipped stale',
    'invoice_paid sent',
    'overdue skipped already_paid',
  ]);
  expect(world.smtp.to(recipient).map((m) => m.subject)).toEqual([`Receipt for invoice ${number} from Acme Billing`]);
  await tick(due + 30 * DAY);
  expect(await noticeRows(world.db.ds, [id])).toHaveLength(3);
});

it('charge_automatically invoices skip due_soon; the first dunning notice is overdue', async () => {
  const now = wallNow();
  const due = now + 5 * DAY;
  const inv = openInvoice({ dueDate: due, finalizedAt: now - 60, collectionMethod: 'charge_automatically' });
  const id = inv['id'] as string;
  await deliverAll(world, [finalizedEvent(inv)]);
  await tick(due - 3 * DAY);
  await tick(due - DAY);
  expect(await dunningRows(id)).toEqual([]);
  await tick(due + DAY);
  expect((await dunningRows(id)).map(label)).toEqual(['overdue#0 sent']);
});
