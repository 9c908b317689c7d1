// `billing contacts set|show` and `billing notices retry|list`, spawned from the build as a person
// runs them, against a real database. A bad argument exits 2 with a message and changes nothing.
import fs from 'node:fs';
import { noticeEffects } from '../../src/effects/notice-effects';
import { finalizedEvent, openInvoice, paidEvent } from '../notices/harness';
import { applyEvent } from '../support/apply-event';
import { billing, CLI } from '../support/cli';
import { customer, customerEvent } from '../support/credit-note-events';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { chargeObject, invoicePaymentObject, paymentEvent, refundObject } from '../support/payment-events';

let db: TestDatabase;
const run = (...args: string[]) => billing(args, { DATABASE_URL: db.url });

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run npm run build first');
  db = await createTestDatabase(2);
});

afterAll(async () => {
  await db?.drop();
});

/** Everything a command could touch, to prove that a refused one touched nothing. */
const everything = async () =>
  JSON.stringify([
    await db.ds.query(`SELECT * FROM billing_contacts ORDER BY stripe_customer_id`),
    await db.ds.query(`SELECT * FROM email_notices ORDER BY id`),
  ]);

async function expectRefused(args: string[], message: RegExp) {
  const before = await everything();
  const r = run(...args);
  expect({ code: r.code, out: r.out }).toEqual({ code: 2, out: '' });
  expect(r.err).toMatch(/^billing: /);
  expect(r.err).toMatch(message);
  expect(await everything()).toBe(before);
}

describe('billing contacts', () => {
  it('set stores both addresses (domain lowercased) and prints them', async () => {
    const r = run('contacts', 'set', 'cus_Set1', '--invoice-email', 'ap@Customer.TEST', '--primary-email', 'Owner@customer.test');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^customer {7}cus_Set1\ninvoice email {2}ap@customer\.test\nprimary email {2}Owner@customer\.test\nupdated {8}\d{4}-\d\d-\d\dT/);
    expect(await db.ds.query(`SELECT invoice_email, primary_email FROM billing_contacts WHERE stripe_customer_id = 'cus_Set1'`)).toEqual([
      { invoice_email: 'ap@customer.test', primary_email: 'Owner@customer.test' },
    ]);
  });

  it('set changes only the address it is given, and "" clears one', async () => {
    expect(run('contacts', 'set', 'cus_Set2', '--invoice-email', 'a@x.test', '--primary-email', 'p@x.test').code).toBe(0);
    expect(run('contacts', 'set', 'cus_Set2', '--invoice-email', 'b@x.test').code).toBe(0);
    const cleared = run('contacts', 'set', 'cus_Set2', '--primary-email', '', '--json');
    expect(cleared.code).toBe(0);
    expect(JSON.parse(cleared.out)).toEqual({ stripeCustomerId: 'cus_Set2', invoiceEmail: 'b@x.test', primaryEmail: null, updatedAt: expect.any(String), name: null, stripeEmail: null, stripeSyncedAt: null, deletedAt: null, lastEventId: null });
  });

  it('show prints the contact, as text or JSON, and says so when there is none', async () => {
    expect(run('contacts', 'set', 'cus_Show1', '--invoice-email', 'ap@show.test').code).toBe(0);
    const text = run('contacts', 'show', 'cus_Show1');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/invoice email {2}ap@show\.test\nprimary email {2}-\n/);

    const json = run('contacts', 'show', 'cus_Show1', '--json');
    expect(JSON.parse(json.out)).toEqual({ stripeCustomerId: 'cus_Show1', invoiceEmail: 'ap@show.test', primaryEmail: null, updatedAt: expect.any(String), name: null, stripeEmail: null, stripeSyncedAt: null, deletedAt: null, lastEventId: null });
    expect(new Date(JSON.parse(json.out).updatedAt as string).getTime()).not.toBeNaN();

    const none = run('contacts', 'show', 'cus_Nobody');
    expect({ code: none.code, out: none.out, err: none.err }).toEqual({
      code: 0,
      out: "cus_Nobody: no billing contact (notices go to the invoice's customer_email)\n",
      err: '',
    });
    expect(JSON.parse(run('contacts', 'show', 'cus_Nobody', '--json').out)).toBeNull();
  });

  it("show prints what the customer's Stripe events said, and set keeps an address Stripe sent until a newer event", async () => {
    expect(run('contacts', 'set', 'cus_Stripe1', '--invoice-email', 'ap@stripe.test').code).toBe(0);
    await applyEvent(db.ds, JSON.stringify(customerEvent('customer.updated', customer({ id: 'cus_Stripe1', email: 'Ada@Example.COM', name: 'Ada' }), { id: 'evt_cli1', created: 1_800_000_000 })));
    const text = run('contacts', 'show', 'cus_Stripe1');
    expect(text.out).toMatch(
      /^customer {7}cus_Stripe1\ninvoice email {2}ap@stripe\.test\nprimary email {2}Ada@example\.com\nupdated {8}\S+\nname {11}Ada\nstripe email {3}Ada@Example\.COM\nstripe synced {2}2027-01-15T08:00:00\.000Z \(evt_cli1\)\ndeleted {8}-\n$/,
    );
    expect(run('contacts', 'set', 'cus_Stripe1', '--primary-email', 'ops@stripe.test').code).toBe(0);
    expect(JSON.parse(run('contacts', 'show', 'cus_Stripe1', '--json').out)).toMatchObject({
      invoiceEmail: 'ap@stripe.test',
      primaryEmail: 'ops@stripe.test',
      stripeEmail: 'Ada@Example.COM',
      stripeSyncedAt: '2027-01-15T08:00:00.000Z',
      lastEventId: 'evt_cli1',
    });
    expect(run('contacts', 'show', 'cus_Show1').out).toMatch(/\nstripe synced {2}- \(no customer event yet\)\n/);
  });

  it.each(['in_123', 'cus_', 'cus_abc-def', 'CUS_abc', 'cus_abc def', ' cus_abc'])('refuses the customer id %j for set and show', async (id) => {
    await expectRefused(['contacts', 'set', id, '--invoice-email', 'ap@x.test'], /not a Stripe customer id: expected cus_/);
    await expectRefused(['contacts', 'show', id], /not a Stripe customer id: expected cus_/);
  });

  describe('a bad address', () => {
    beforeAll(() => {
      expect(run('contacts', 'set', 'cus_Keep', '--invoice-email', 'keep@x.test', '--primary-email', 'keep2@x.test').code).toBe(0);
    });

    it.each(['not-an-email', 'jane@', 'a@x.test, b@x.test', 'Jane <jane@x.test>', 'jane@x.test\r\nBcc: evil@evil.test', `${'a'.repeat(65)}@x.test`])(
      '%j is refused and the existing contact stays as it was',
      async (bad) => {
        await expectRefused(['contacts', 'set', 'cus_Keep', '--invoice-email', bad], /--invoice-email: not a valid email address/);
        await expectRefused(['contacts', 'set', 'cus_Keep', '--invoice-email', 'ok@x.test', '--primary-email', bad], /--primary-email: not a valid email address/);
        await expectRefused(['contacts', 'set', 'cus_New', '--primary-email', bad], /--primary-email: not a valid email address/);
      },
    );
  });

  it('refuses set without any address to set', async () => {
    await expectRefused(['contacts', 'set', 'cus_Keep'], /give --invoice-email and\/or --primary-email/);
  });
});

describe('billing notices', () => {
  const T0 = 1_800_000_000;

  beforeAll(async () => {
    // Newest last: list shows them newest first.
    await db.ds.query(
      `INSERT INTO email_notices (stripe_invoice_id, kind, sequence, status, recipient, attempts, last_error, created_at, sent_at, next_attempt_at)
       VALUES ('in_cliA', 'invoice_issued', 0, 'failed', 'a@x.test', 1, '550 5.1.1 mailbox unavailable', to_timestamp(${T0}), NULL, to_timestamp(${T0})),
              ('in_cliA', 'payment_failed', 1, 'skipped', NULL, 0, 'no_recipient', to_timestamp(${T0 + 1}), NULL, to_timestamp(${T0 + 1})),
              ('in_cliB', 'invoice_issued', 0, 'skipped', NULL, 0, 'already_paid', to_timestamp(${T0 + 2}), NULL, to_timestamp(${T0 + 2})),
              ('in_cliB', 'invoice_paid', 0, 'sent', 'b@x.test', 1, NULL, to_timestamp(${T0 + 3}), to_timestamp(${T0 + 3}), to_timestamp(${T0 + 3})),
              ('in_cliC', 'overdue', 0, 'failed', 'c@x.test', 10, '451 4.7.1 try later', to_timestamp(${T0 + 4}), NULL, to_timestamp(${T0 + 4})),
              ('in_cliC', 'overdue_reminder', 1, 'pending', NULL, 0, NULL, to_timestamp(${T0 + 5}), NULL, to_timestamp(${T0 + 5}))`,
    );
  });

  const keys = (rows: Record<string, unknown>[]) => rows.map((r) => `${r['stripe_invoice_id']} ${r['kind']}#${r['sequence']} ${r['status']}`);

  it('list shows the notices newest first, as text or JSON, filtered by invoice, status and limit', async () => {
    const text = run('notices', 'list');
    expect(text.code).toBe(0);
    expect(text.out.trimEnd().split('\n')).toEqual([
      'CREATED               INVOICE  NOTICE              STATUS   SENT                  RECIPIENT  LAST ERROR',
      '2027-01-15T08:00:05Z  in_cliC  overdue_reminder#1  pending  -                     -',
      '2027-01-15T08:00:04Z  in_cliC  overdue#0           failed   -                     c@x.test   451 4.7.1 try later',
      '2027-01-15T08:00:03Z  in_cliB  invoice_paid#0      sent     2027-01-15T08:00:03Z  b@x.test',
      '2027-01-15T08:00:02Z  in_cliB  invoice_issued#0    skipped  -                     -          already_paid',
      '2027-01-15T08:00:01Z  in_cliA  payment_failed#1    skipped  -                     -          no_recipient',
      '2027-01-15T08:00:00Z  in_cliA  invoice_issued#0    failed   -                     a@x.test   550 5.1.1 mailbox unavailable',
    ]);

    const json = JSON.parse(run('notices', 'list', '--json').out) as Record<string, unknown>[];
    expect(json).toHaveLength(6);
    expect(Object.keys(json[0]!)).toEqual(['id', 'stripe_invoice_id', 'kind', 'sequence', 'subject', 'amount_cents', 'currency', 'status', 'recipient', 'attempts', 'last_error', 'created_at', 'sent_at']);
    expect(json[1]).toMatchObject({ stripe_invoice_id: 'in_cliC', kind: 'overdue', subject: '', amount_cents: null, currency: null, status: 'failed', attempts: 10, recipient: 'c@x.test' });

    const list = (...args: string[]) => keys(JSON.parse(run('notices', 'list', '--json', ...args).out) as Record<string, unknown>[]);
    expect(list('--invoice', 'in_cliA')).toEqual(['in_cliA payment_failed#1 skipped', 'in_cliA invoice_issued#0 failed']);
    expect(list('--status', 'failed')).toEqual(['in_cliC overdue#0 failed', 'in_cliA invoice_issued#0 failed']);
    expect(list('--limit', '2')).toEqual(['in_cliC overdue_reminder#1 pending', 'in_cliC overdue#0 failed']);
    expect(list('--invoice', 'in_cliB', '--status', 'sent')).toEqual(['in_cliB invoice_paid#0 sent']);
    expect(list('--invoice', 'in_cliNone')).toEqual([]);
    expect(run('notices', 'list', '--invoice', 'in_cliNone').out).toBe('no notices\n');
  });

  it.each([
    [['list', '--invoice', 'cus_123'], /--invoice: not a Stripe invoice id: expected in_/],
    [['list', '--invoice', 'in_'], /--invoice: not a Stripe invoice id/],
    [['list', '--invoice', "in_x' OR '1'='1"], /--invoice: not a Stripe invoice id/],
    [['list', '--status', 'bogus'], /--status: one of pending, sent, failed, skipped/],
    [['list', '--status', 'SENT'], /--status: one of pending, sent, failed, skipped/],
    [['list', '--limit', '0'], /--limit: a whole number from 1 to 10000/],
    [['list', '--limit=-1'], /--limit: a whole number from 1 to 10000/],
    [['list', '--limit', 'ten'], /--limit: a whole number from 1 to 10000/],
    [['list', '--limit', '1.5'], /--limit: a whole number from 1 to 10000/],
    [['list', '--limit', '10001'], /--limit: a whole number from 1 to 10000/],
    [['retry', '--invoice', 'in_bad-id'], /--invoice: not a Stripe invoice id/],
    [['retry', '--failed', '--invoice', 'sub_123'], /--invoice: not a Stripe invoice id/],
  ])('notices %j exits 2 and changes nothing', async (args, message) => {
    await expectRefused(['notices', ...args], message);
  });

  // Last in this file: it changes the rows the other notices tests read.
  it('retry puts failed (and, without --failed, no_recipient) notices back to pending, and nothing else', async () => {
    const state = async () =>
      keys(await db.ds.query(`SELECT stripe_invoice_id, kind, sequence, status FROM email_notices WHERE stripe_invoice_id LIKE 'in_cli%' ORDER BY id`));

    const one = run('notices', 'retry', '--failed', '--invoice', 'in_cliA');
    expect(one.err).toBe('');
    expect(one.code).toBe(0);
    expect(one.out).toBe('1 notice(s) back to pending:\n  in_cliA invoice_issued#0\n');
    const [retried] = await db.ds.query(`SELECT status, attempts, last_error, next_attempt_at <= now() AS due FROM email_notices WHERE stripe_invoice_id = 'in_cliA' AND kind = 'invoice_issued'`);
    expect(retried).toEqual({ status: 'pending', attempts: 0, last_error: null, due: true });

    const all = run('notices', 'retry', '--json');
    expect(all.code).toBe(0);
    const body = JSON.parse(all.out) as { retried: number; notices: Record<string, unknown>[] };
    expect(body.retried).toBe(2);
    expect(body.notices.map((n) => `${n['stripe_invoice_id']} ${n['kind']}#${n['sequence']}`)).toEqual(['in_cliA payment_failed#1', 'in_cliC overdue#0']);
    expect(await state()).toEqual([
      'in_cliA invoice_issued#0 pending',
      'in_cliA payment_failed#1 pending',
      'in_cliB invoice_issued#0 skipped',
      'in_cliB invoice_paid#0 sent',
      'in_cliC overdue#0 pending',
      'in_cliC overdue_reminder#1 pending',
    ]);

    const nothing = run('notices', 'retry');
    expect({ code: nothing.code, out: nothing.out }).toEqual({ code: 0, out: 'no notices to retry\n' });
    expect(JSON.parse(run('notices', 'retry', '--json').out)).toEqual({ retried: 0, notices: [] });
  });
});

// After the tests above, which list every invoice's notices and retry every failed one.
describe('billing notices list: refund notices', () => {
  const T = 1_800_000_000;
  const INVOICE = 'in_refundsTwo';
  const CHARGE = 'ch_refundsTwo';
  const PI = 'pi_refundsTwo';

  beforeAll(async () => {
    const inv = openInvoice({ id: INVOICE, number: 'INV-R2', amount: 1000, finalizedAt: T - 600 });
    const charge = (amountRefunded: number) => chargeObject({ id: CHARGE, paymentIntent: PI, amount: 1000, created: T, amountRefunded });
    const refund = (id: string, amount: number, at: number) => paymentEvent('refund.created', refundObject(CHARGE, { id, amount, created: at, paymentIntent: PI }), { created: at });
    // Each event at its own time, so the rows are queued in this order.
    const events: [number, Record<string, unknown>][] = [
      [T - 600, finalizedEvent(inv, T - 600)],
      [T, paidEvent(inv, T)],
      [T + 1, paymentEvent('invoice_payment.paid', invoicePaymentObject(INVOICE, { paymentIntent: PI, created: T - 1, amount: 1000 }), { created: T })],
      [T + 2, paymentEvent('charge.succeeded', charge(0), { created: T })],
      [T + 100, refund('re_refundsA', 300, T + 100)],
      [T + 200, refund('re_refundsB', 250, T + 200)],
      // The charge's amount_refunded rises past what the two refunds explain: a refund not known yet.
      [T + 300, paymentEvent('charge.refunded', charge(1000), { created: T + 300 })],
    ];
    for (const [at, e] of events) await applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => at, effects: { notices: noticeEffects(ALL_NOTICES) } });
  });

  it('shows what each refund email is about and the amount it told, in the table and in JSON', () => {
    const text = run('notices', 'list', '--invoice', INVOICE);
    expect(text.err).toBe('');
    expect(text.code).toBe(0);
    expect(text.out.trimEnd().split('\n')).toEqual([
      'CREATED               INVOICE        NOTICE            SUBJECT                    REFUNDED  STATUS   SENT  RECIPIENT  LAST ERROR',
      '2027-01-15T08:05:00Z  in_refundsTwo  refund_issued#0   charge:ch_refundsTwo:1000  4.50 USD  pending  -     -',
      '2027-01-15T08:03:20Z  in_refundsTwo  refund_issued#0   refund:re_refundsB         2.50 USD  pending  -     -',
      '2027-01-15T08:01:40Z  in_refundsTwo  refund_issued#0   refund:re_refundsA         3.00 USD  pending  -     -',
      '2027-01-15T08:00:00Z  in_refundsTwo  invoice_paid#0                                         pending  -     -',
      '2027-01-15T07:50:00Z  in_refundsTwo  invoice_issued#0                                       pending  -     -',
    ]);

    const json = JSON.parse(run('notices', 'list', '--invoice', INVOICE, '--json').out) as Record<string, unknown>[];
    expect(json.map((n) => [n['kind'], n['subject'], n['amount_cents'], n['currency']])).toEqual([
      ['refund_issued', `charge:${CHARGE}:1000`, 450, 'usd'],
      ['refund_issued', 'refund:re_refundsB', 250, 'usd'],
      ['refund_issued', 'refund:re_refundsA', 300, 'usd'],
      ['invoice_paid', '', null, null],
      ['invoice_issued', '', null, null],
    ]);
  });

  it("gives a refund notice's amount in minor units when neither its refund, its charge nor its invoice is stored", async () => {
    await db.ds.query(
      `INSERT INTO email_notices (stripe_invoice_id, kind, sequence, subject, amount_cents, status, last_error, created_at, next_attempt_at)
       VALUES ('in_refundsGone', 'refund_issued', 0, 'refund:re_gone', 1234, 'skipped', 'refund_missing', to_timestamp(${T}), to_timestamp(${T}))`,
    );
    expect(run('notices', 'list', '--invoice', 'in_refundsGone').out.trimEnd().split('\n')).toEqual([
      'CREATED               INVOICE         NOTICE           SUBJECT                   REFUNDED  STATUS   SENT  RECIPIENT  LAST ERROR',
      '2027-01-15T08:00:00Z  in_refundsGone  refund_issued#0  refund:re_gone  1234 (minor units)  skipped  -     -          refund_missing',
    ]);
    expect(JSON.parse(run('notices', 'list', '--invoice', 'in_refundsGone', '--json').out)).toMatchObject([{ subject: 'refund:re_gone', amount_cents: 1234, currency: null }]);
  });
});
