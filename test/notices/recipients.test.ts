// Who receives a notice: the customer's billing contact invoice_email, else the invoice's
// customer_email, else the contact's primary_email; with none, the notice is `skipped` with
// `no_recipient`, visibly, and a contact added later can still be reached through `notices retry`.
import fs from 'node:fs';
import { upsertContact } from '../../src/db/billing-contacts';
import { billing, CLI } from '../support/cli';
import { uid } from '../support/stripe-events';
import { seededRandom, testSeed } from '../integration/helpers';
import { deliverAll, drainOnce, finalizedEvent, noisy, noticeRows, openInvoice, useNoticeWorld, wallNow } from './harness';

const world = useNoticeWorld();

const drain = () => drainOnce(world().db.ds, world().smtp.url);

interface Case {
  contact?: { invoiceEmail?: string | null; primaryEmail?: string | null };
  customerEmail: string | null;
}

/** One open invoice for a new customer with the given contact; returns its id and the outbox row after a mailer pass. */
async function issueTo(c: Case) {
  const customer = uid('cus');
  if (c.contact) await upsertContact(world().db.ds.manager, customer, c.contact);
  const inv = openInvoice({ customer, customerEmail: c.customerEmail });
  const id = inv['id'] as string;
  await deliverAll(world(), noisy([finalizedEvent(inv)], seededRandom(testSeed(3_100))));
  await drain();
  const rows = await noticeRows(world().db.ds, [id]);
  expect(rows.map((r) => r.kind)).toEqual(['invoice_issued']);
  return { id, customer, row: rows[0]! };
}

describe('the recipient fallback chain', () => {
  it('prefers the billing contact invoice email over everything else', async () => {
    const { row } = await issueTo({
      contact: { invoiceEmail: 'ap@contact.test', primaryEmail: 'owner@contact.test' },
      customerEmail: 'someone@invoice.test',
    });
    expect(row).toMatchObject({ status: 'sent', recipient: 'ap@contact.test', last_error: null });
    expect(world().smtp.messages.map((m) => m.envelopeTo)).toEqual([['ap@contact.test']]);
    expect(world().smtp.messages[0]!.header('to')).toBe('ap@contact.test');
    expect(world().smtp.rcptAttempts).toEqual(['ap@contact.test']);
  });

  it('falls back to the invoice customer_email when the contact has no invoice email', async () => {
    const { row } = await issueTo({ contact: { primaryEmail: 'owner@contact.test' }, customerEmail: 'someone@invoice.test' });
    expect(row).toMatchObject({ status: 'sent', recipient: 'someone@invoice.test' });
    expect(world().smtp.messages.map((m) => m.envelopeTo)).toEqual([['someone@invoice.test']]);
  });

  it('uses the invoice customer_email when the customer has no contact at all', async () => {
    const { row } = await issueTo({ customerEmail: 'Someone@Invoice.TEST' });
    // The domain is case-insensitive and normalised; the local part is kept as it is.
    expect(row).toMatchObject({ status: 'sent', recipient: 'Someone@invoice.test' });
    expect(world().smtp.messages.map((m) => m.envelopeTo)).toEqual([['Someone@invoice.test']]);
  });

  it('falls back to the primary email when neither the contact nor the invoice names an invoice address', async () => {
    const { row } = await issueTo({ contact: { primaryEmail: 'owner@contact.test' }, customerEmail: null });
    expect(row).toMatchObject({ status: 'sent', recipient: 'owner@contact.test' });
    expect(world().smtp.messages.map((m) => m.envelopeTo)).toEqual([['owner@contact.test']]);
  });

  it('passes over an unusable customer_email (a list, or one carrying a header) to the primary email', async () => {
    for (const bad of ['a@invoice.test, b@invoice.test', 'x@invoice.test\r\nBcc: victim@evil.test', 'not an address']) {
      world().smtp.clear();
      const { row } = await issueTo({ contact: { primaryEmail: 'owner@contact.test' }, customerEmail: bad });
      expect(row).toMatchObject({ status: 'sent', recipient: 'owner@contact.test' });
      expect(world().smtp.rcptAttempts).toEqual(['owner@contact.test']);
      expect(world().smtp.messages[0]!.headerLines.filter((h) => /^bcc:/i.test(h))).toEqual([]);
    }
  });
});

describe('no recipient', () => {
  it('marks the notice skipped with no_recipient and sends nothing, also with a contact that has no address', async () => {
    const none = await issueTo({ customerEmail: null });
    const empty = await issueTo({ contact: { invoiceEmail: null, primaryEmail: null }, customerEmail: null });
    for (const { row } of [none, empty]) {
      expect(row).toMatchObject({ status: 'skipped', last_error: 'no_recipient', recipient: null, attempts: 0, message_id: null });
    }
    expect(world().smtp.messages).toEqual([]);
    expect(world().smtp.rcptAttempts).toEqual([]);
    // Skipped is settled: another pass does not pick it up again.
    expect(await drain()).toBe(0);
  });

  it('reads the contact when the notice goes out, so an address set while it waited is used', async () => {
    const customer = uid('cus');
    const inv = openInvoice({ customer, customerEmail: null });
    await deliverAll(world(), [finalizedEvent(inv)]);
    await upsertContact(world().db.ds.manager, customer, { invoiceEmail: 'late@contact.test' });
    expect(await drain()).toBe(1);
    const [row] = await noticeRows(world().db.ds, [inv['id'] as string]);
    expect(row).toMatchObject({ status: 'sent', recipient: 'late@contact.test' });
    expect(world().smtp.messages.map((m) => m.envelopeTo)).toEqual([['late@contact.test']]);
  });

  it('reaches a contact added later once `billing notices retry` puts the notice back', async () => {
    if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run npm run build first');
    const { id, customer } = await issueTo({ customerEmail: null });
    expect(world().smtp.messages).toEqual([]);

    const set = billing(['contacts', 'set', customer, '--invoice-email', 'found@contact.test'], { DATABASE_URL: world().db.url });
    expect(set.err).toBe('');
    expect(set.code).toBe(0);
    const retry = billing(['notices', 'retry', '--invoice', id, '--json'], { DATABASE_URL: world().db.url });
    expect(retry.code).toBe(0);
    expect(JSON.parse(retry.out)).toMatchObject({ retried: 1, notices: [{ stripe_invoice_id: id, kind: 'invoice_issued', sequence: 0 }] });

    // retry makes it due at the database's now(), which has sub-second precision; the mailer counts whole seconds.
    expect(await drainOnce(world().db.ds, world().smtp.url, { now: () => wallNow() + 1 })).toBe(1);
    const [row] = await noticeRows(world().db.ds, [id]);
    expect(row).toMatchObject({ status: 'sent', recipient: 'found@contact.test', attempts: 1 });
    expect(world().smtp.messages.map((m) => m.envelopeTo)).toEqual([['found@contact.test']]);
  });
});
