// The event-driven notices (invoice_issued, payment_failed, invoice_paid, invoice_voided) end to
// end: signed webhooks → real SQS → the real consumer's outbox → the real Mailer → a real SMTP
// server, with Stripe's duplicates, re-orderings and second event ids thrown in.
import { event, paidLifecycle, uid } from '../support/stripe-events';
import { seededRandom, testSeed, voidLifecycle, type StripeEvent } from '../integration/helpers';
import {
  deliverAll,
  drainOnce,
  expectedMessageId,
  noisy,
  noticeRows,
  useNoticeWorld,
  summary,
  wallNow,
  withFields,
} from './harness';

const world = useNoticeWorld();

const drain = (concurrency = 2) => drainOnce(world().db.ds, world().smtp.url, { concurrency });

/** A lifecycle addressed to its own mailbox, so that each test reads only its own mail. */
function lifecycleFor(make: (id: string, start: number) => StripeEvent[]) {
  const id = uid('in');
  const recipient = `ap.${id.slice(-8)}@customer.test`;
  const events = withFields(make(id, wallNow() - 600), {
    customer_email: recipient,
    customer_name: 'Jane Customer',
    hosted_invoice_url: `https://invoice.stripe.com/i/${id}`,
    invoice_pdf: `https://pay.stripe.com/invoice/${id}/pdf`,
  });
  return { id, recipient, events, number: `INV-${id.slice(-6)}`, payUrl: `https://invoice.stripe.com/i/${id}`, pdfUrl: `https://pay.stripe.com/invoice/${id}/pdf` };
}

it('sends invoice_issued, payment_failed and invoice_paid once each, to the customer, with the links, whatever Stripe repeats', async () => {
  const random = seededRandom(testSeed(3_001));
  const inv = lifecycleFor((id, start) => paidLifecycle(id, start, { amount: 1234, customer: uid('cus') }));
  const [created, finalized, failed, failedUpdate, paid, succeeded] = inv.events as [StripeEvent, StripeEvent, StripeEvent, StripeEvent, StripeEvent, StripeEvent];

  // Stage by stage, each stage's events three times, shuffled, and again under second event ids.
  await deliverAll(world(), noisy([created, finalized], random));
  expect(await drain()).toBe(1);
  await deliverAll(world(), noisy([failed, failedUpdate], random));
  expect(await drain()).toBe(1);
  await deliverAll(world(), noisy([paid, succeeded], random));
  expect(await drain()).toBe(1);
  // The whole lifecycle once more, late and shuffled: nothing new to say.
  await deliverAll(world(), noisy(inv.events, random));
  expect(await drain()).toBe(0);

  const rows = await noticeRows(world().db.ds, [inv.id]);
  expect(summary(rows)).toEqual(['invoice_issued#0 sent', 'invoice_paid#0 sent', 'payment_failed#1 sent']);
  expect(rows.every((r) => r.recipient === inv.recipient && r.attempts === 1)).toBe(true);

  const mails = world().smtp.messages;
  expect(mails).toHaveLength(3);
  expect(mails.map((m) => m.envelopeTo)).toEqual([[inv.recipient], [inv.recipient], [inv.recipient]]);
  expect(mails.map((m) => m.header('to'))).toEqual([inv.recipient, inv.recipient, inv.recipient]);
  expect(mails.map((m) => m.messageId).sort()).toEqual(rows.map((r) => r.message_id).sort());
  for (const row of rows) expect(row.message_id).toBe(expectedMessageId(row));

  const [issued, paymentFailed, receipt] = mails as [(typeof mails)[0], (typeof mails)[0], (typeof mails)[0]];
  expect(issued.messageId).toBe(expectedMessageId(rows.find((r) => r.kind === 'invoice_issued')!));
  expect(issued.subject).toBe(`Invoice ${inv.number} from Acme Billing: $12.34 due`);
  expect(issued.text).toContain('Amount due: $12.34');
  expect(issued.text).toContain(`Pay now: ${inv.payUrl}`);
  expect(issued.text).toContain(`Download PDF: ${inv.pdfUrl}`);
  expect(issued.html).toContain(`<a href="${inv.payUrl}"`);
  expect(issued.html).toContain(`<a href="${inv.pdfUrl}"`);

  expect(paymentFailed.subject).toBe(`Payment failed for invoice ${inv.number} from Acme Billing`);
  expect(paymentFailed.text).toContain(`Payment attempt 1 for invoice ${inv.number}`);
  expect(paymentFailed.text).toContain(`Pay now: ${inv.payUrl}`);

  expect(receipt.subject).toBe(`Receipt for invoice ${inv.number} from Acme Billing`);
  expect(receipt.text).toContain('Amount paid: $12.34');
  expect(receipt.text).toMatch(/Payment date: \w+ \d{1,2}, \d{4}/);
  expect(receipt.text).toContain(`View invoice: ${inv.payUrl}`);
  expect(receipt.text).toContain(`Download PDF: ${inv.pdfUrl}`);
});

it('sends one payment_failed per attempt, numbered by attempt_count', async () => {
  const random = seededRandom(testSeed(3_002));
  const inv = lifecycleFor((id, start) => paidLifecycle(id, start, { customer: uid('cus') }));
  const finalized = inv.events[1]!;
  const failure = (attempt: number) => {
    const object = (finalized['data'] as { object: Record<string, unknown> }).object;
    return event('invoice.payment_failed', { ...object, attempt_count: attempt }, { created: (finalized['created'] as number) + attempt });
  };
  await deliverAll(world(), noisy([finalized, failure(1), failure(2)], random));
  expect(await drain()).toBe(3);

  expect(summary(await noticeRows(world().db.ds, [inv.id]))).toEqual(['invoice_issued#0 sent', 'payment_failed#1 sent', 'payment_failed#2 sent']);
  const failures = world().smtp.to(inv.recipient).filter((m) => m.subject.startsWith('Payment failed'));
  expect(failures.map((m) => /Payment attempt (\d+)/.exec(m.text)?.[1]).sort()).toEqual(['1', '2']);
});

it('sends invoice_voided once, after the invoice_issued it takes back', async () => {
  const random = seededRandom(testSeed(3_003));
  const inv = lifecycleFor((id, start) => voidLifecycle(id, start, { customer: uid('cus'), amount: 500 }));
  const [created, finalized, failed, failedUpdate, voided, voidedUpdate] = inv.events as [StripeEvent, StripeEvent, StripeEvent, StripeEvent, StripeEvent, StripeEvent];

  await deliverAll(world(), noisy([created, finalized, failed, failedUpdate], random));
  expect(await drain()).toBe(2);
  await deliverAll(world(), noisy([voided, voidedUpdate], random));
  expect(await drain()).toBe(1);
  await deliverAll(world(), noisy(inv.events, random));
  expect(await drain()).toBe(0);

  expect(summary(await noticeRows(world().db.ds, [inv.id]))).toEqual(['invoice_issued#0 sent', 'invoice_voided#0 sent', 'payment_failed#1 sent']);
  const voidMails = world().smtp.to(inv.recipient).filter((m) => m.subject === `Invoice ${inv.number} has been voided`);
  expect(voidMails).toHaveLength(1);
  expect(voidMails[0]!.text).toContain(`Invoice ${inv.number} from Acme Billing for $5.00 has been voided. No payment is required.`);
  expect(world().smtp.messages).toHaveLength(3);
});

it('a whole paid lifecycle arriving at once, in any order, yields only the receipt; the rest is skipped with the reason', async () => {
  const random = seededRandom(testSeed(3_004));
  const invoices = Array.from({ length: 5 }, () => lifecycleFor((id, start) => paidLifecycle(id, start, { customer: uid('cus') })));
  await deliverAll(world(), noisy(invoices.flatMap((i) => i.events), random));
  expect(await drain()).toBe(15);

  const rows = await noticeRows(world().db.ds, invoices.map((i) => i.id));
  for (const inv of invoices) {
    const mine = rows.filter((r) => r.stripe_invoice_id === inv.id);
    expect(summary(mine)).toEqual(['invoice_issued#0 skipped', 'invoice_paid#0 sent', 'payment_failed#1 skipped']);
    expect(mine.filter((r) => r.status === 'skipped').map((r) => r.last_error)).toEqual(['already_paid', 'already_paid']);
    const mails = world().smtp.to(inv.recipient);
    expect(mails.map((m) => m.subject)).toEqual([`Receipt for invoice ${inv.number} from Acme Billing`]);
  }
  expect(world().smtp.messages).toHaveLength(5);
});

it('a void lifecycle arriving at once sends nothing: never issued to the customer, so no void notice either', async () => {
  const random = seededRandom(testSeed(3_005));
  const inv = lifecycleFor((id, start) => voidLifecycle(id, start, { customer: uid('cus') }));
  await deliverAll(world(), noisy(inv.events, random));
  // One at a time: invoice_voided waits (deferred) while its invoice_issued is being sent by another lane.
  expect(await drain(1)).toBe(3);

  const rows = await noticeRows(world().db.ds, [inv.id]);
  expect(rows.map((r) => `${r.kind} ${r.status} ${r.last_error}`).sort()).toEqual([
    'invoice_issued skipped already_void',
    'invoice_voided skipped never_issued_to_customer',
    'payment_failed skipped already_void',
  ]);
  expect(world().smtp.messages).toEqual([]);
});

it('a draft, however often it arrives, queues no notice', async () => {
  const random = seededRandom(testSeed(3_006));
  const inv = lifecycleFor((id, start) => paidLifecycle(id, start, { customer: uid('cus') }));
  await deliverAll(world(), noisy([inv.events[0]!], random));
  expect(await drain()).toBe(0);
  expect(await noticeRows(world().db.ds, [inv.id])).toEqual([]);
  expect(world().smtp.messages).toEqual([]);
});

it('an invoice first seen at a failed payment still gets its invoice_issued, once', async () => {
  const random = seededRandom(testSeed(3_007));
  const inv = lifecycleFor((id, start) => paidLifecycle(id, start, { customer: uid('cus') }));
  await deliverAll(world(), noisy([inv.events[2]!], random));
  expect(await drain()).toBe(2);
  await deliverAll(world(), noisy([inv.events[0]!, inv.events[1]!], random));
  expect(await drain()).toBe(0);

  expect(summary(await noticeRows(world().db.ds, [inv.id]))).toEqual(['invoice_issued#0 sent', 'payment_failed#1 sent']);
  expect(world().smtp.to(inv.recipient).map((m) => m.subject.split(' ')[0]).sort()).toEqual(['Invoice', 'Payment']);
});
