// Credit notes and customers through the one transaction path (applyEvent → processBatch →
// applyBatch), against a real database; the customer's email reaching a pending notice through
// the real Mailer and a real SMTP server; thin events fetched from the test Stripe API.
import { upsertContact, getContact, findCustomerContact } from '../../src/db/billing-contacts';
import { findCreditNote } from '../../src/db/credit-notes';
import { noticeEffects } from '../../src/effects/notice-effects';
import { MalformedEventError } from '../../src/errors';
import { createStripeClient } from '../../src/stripe/api-client';
import { objectFetcher } from '../../src/stripe-objects/registry';
import type { ProcessOptions } from '../../src/pipeline/types';
import { runMigrations } from '../../src/db/data-source';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { uid } from '../support/stripe-events';
import { drainOnce, finalizedEvent, noticeRows, openInvoice, wallNow } from '../notices/harness';
import { creditNote, creditNoteEvent, customer, customerEvent, deletedCustomerStub, olderCreditNote, thinObjectEvent, voided } from '../support/credit-note-events';

let db: TestDatabase;
let smtp: SmtpSink;
let api: StripeApi;
beforeAll(async () => {
  [db, smtp, api] = await Promise.all([createTestDatabase(6), startSmtpSink(), startStripeApi()]);
});
afterAll(async () => {
  await Promise.all([db?.drop(), smtp?.close(), api?.stop()]);
});
beforeEach(() => smtp.clear());

type Json = Record<string, unknown>;
const apply = (e: Json, o: ProcessOptions = {}, force = false) => applyEvent(db.ds, JSON.stringify(e), { effects: { notices: noticeEffects(ALL_NOTICES) }, ...o }, { force });
const eventRow = async (id: unknown) =>
  (await db.ds.query(`SELECT type, stripe_invoice_id, processed_at IS NOT NULL AS processed, last_error FROM stripe_events WHERE id = $1`, [id]))[0] as
    | { type: string; stripe_invoice_id: string | null; processed: boolean; last_error: string | null }
    | undefined;
const creditNoteRow = async (id: string) => {
  const rows: Json[] = await db.ds.query(`SELECT * FROM credit_notes WHERE stripe_credit_note_id = $1`, [id]);
  for (const r of rows) for (const k of ['id', 'updated_at']) delete r[k];
  return rows;
};

describe('credit notes', () => {
  const T = 1_760_000_000;

  it('stores a post-payment credit note and its voiding, the same row in either order', async () => {
    const invoice = uid('in');
    const rows = [];
    for (const order of ['chronological', 'reversed'] as const) {
      const cn = creditNote({ invoice, customer: 'cus_Cn', type: 'post_payment', total: 2500, created: T });
      const events = [creditNoteEvent('credit_note.created', cn, { created: T }), creditNoteEvent('credit_note.voided', voided(cn, T + 3600), { created: T + 3600 })];
      const outcomes = [];
      for (const e of order === 'chronological' ? events : [...events].reverse()) outcomes.push((await apply(e)).outcome);
      // Issued after void says nothing new: the voided credit note stays void.
      expect(outcomes).toEqual(order === 'chronological' ? ['merged', 'merged'] : ['merged', 'unchanged']);
      const id = cn['id'] as string;
      expect(await findCreditNote(db.ds.manager, id)).toEqual({
        stripeCreditNoteId: id,
        stripeInvoiceId: invoice,
        stripeCustomerId: 'cus_Cn',
        number: cn['number'],
        status: 'void',
        type: 'post_payment',
        reason: 'order_change',
        totalCents: 2500,
        prePaymentAmountCents: 0,
        postPaymentAmountCents: 2500,
        outOfBandAmountCents: null,
        currency: 'usd',
        pdfUrl: cn['pdf'],
        createdAt: T,
        voidedAt: T + 3600,
        livemode: false,
        lastEventId: events[1]!['id'],
        lastEventCreatedAt: T + 3600,
        stripeAccountId: null,
      });
      // The event log files both under the invoice; the invoice itself need not be known.
      for (const e of events) expect(await eventRow(e['id'])).toMatchObject({ stripe_invoice_id: invoice, processed: true, last_error: null });
      const [row] = await creditNoteRow(id);
      rows.push({ ...row, stripe_credit_note_id: 'same', last_event_id: 'same', number: 'same', pdf_url: 'same' });
      // Stripe's created, not when the row was inserted.
      expect((row!['created_at'] as Date).getTime()).toBe(T * 1000);
    }
    expect(rows[0]).toEqual(rows[1]);
    const [invoiceRows] = await db.ds.query(`SELECT count(*)::int AS n FROM invoices WHERE stripe_invoice_id = $1`, [invoice]);
    expect(invoiceRows.n).toBe(0);
  });

  it('changes nothing on a duplicate, a replay or an older event', async () => {
    const cn = creditNote({ created: T });
    const created = creditNoteEvent('credit_note.created', cn, { created: T });
    const voidedEvent = creditNoteEvent('credit_note.voided', voided(cn, T + 60), { created: T + 60 });
    await apply(created);
    await apply(voidedEvent);
    const before = await creditNoteRow(cn['id'] as string);
    expect((await apply(voidedEvent)).outcome).toBe('duplicate');
    expect((await apply(created, {}, true)).outcome).toBe('unchanged');
    expect((await apply(creditNoteEvent('credit_note.updated', cn, { created: T + 1 }))).outcome).toBe('unchanged');
    expect(await creditNoteRow(cn['id'] as string)).toEqual(before);
  });

  it('derives the split of an older credit note from its type', async () => {
    const cn = olderCreditNote(creditNote({ type: 'pre_payment', total: 700, created: T }));
    await apply(creditNoteEvent('credit_note.created', cn, { created: T }));
    expect(await findCreditNote(db.ds.manager, cn['id'] as string)).toMatchObject({ type: 'pre_payment', totalCents: 700, prePaymentAmountCents: 700, postPaymentAmountCents: 0 });
  });

  it('stores a credit note without an invoice in the event log with the reason, and writes no row', async () => {
    const cn = creditNote();
    delete cn['invoice'];
    const e = creditNoteEvent('credit_note.created', cn);
    await expect(apply(e)).rejects.toThrow(MalformedEventError);
    expect(await eventRow(e['id'])).toEqual({ type: 'credit_note.created', stripe_invoice_id: null, processed: false, last_error: expect.stringMatching(/invalid credit note in credit_note\.created: invoice: missing/) });
    expect(await creditNoteRow(cn['id'] as string)).toEqual([]);
  });

  it('refuses a currency the table would refuse before it gets there', async () => {
    const e = creditNoteEvent('credit_note.created', creditNote({ currency: 'us' }));
    await expect(apply(e)).rejects.toThrow(/currency: must be a three-letter ISO currency code/);
    expect((await eventRow(e['id']))?.last_error).toMatch(/currency/);
  });
});

describe('customers in billing_contacts', () => {
  it('keeps the customer’s email, name and deletion, and never writes invoice_email', async () => {
    const id = uid('cus');
    await upsertContact(db.ds.manager, id, { invoiceEmail: 'ap@ops.test' });
    await apply(customerEvent('customer.created', customer({ id, email: 'Ada@Example.COM', name: 'Ada' }), { created: 100 }));
    await apply(customerEvent('customer.deleted', customer({ id, email: 'Ada@Example.COM', name: 'Ada' }), { created: 200 }));
    expect(await getContact(db.ds.manager, id)).toMatchObject({
      invoiceEmail: 'ap@ops.test',
      primaryEmail: 'Ada@example.com',
      stripeEmail: 'Ada@Example.COM',
      name: 'Ada',
      stripeSyncedAt: new Date(200_000),
      deletedAt: new Date(200_000),
    });
  });

  it('stores a customer event without an id in the event log with the reason', async () => {
    const c = customer();
    delete c['id'];
    const e = customerEvent('customer.updated', c);
    await expect(apply(e)).rejects.toThrow(MalformedEventError);
    expect(await eventRow(e['id'])).toEqual({ type: 'customer.updated', stripe_invoice_id: null, processed: false, last_error: expect.stringMatching(/invalid customer in customer\.updated: id: missing/) });
  });

  it('leaves events of other objects under the customer prefix alone: the processor does not handle them', async () => {
    const e = customerEvent('customer.subscription.updated', { id: uid('sub'), object: 'subscription', customer: 'cus_x' });
    await expect(apply(e)).rejects.toThrow(/not an event this processor handles: customer\.subscription\.updated/);
  });

  it('waits for an operator holding the row, then applies the event to what the operator committed', async () => {
    const id = uid('cus');
    await upsertContact(db.ds.manager, id, { invoiceEmail: 'ap@ops.test', primaryEmail: 'ops@ops.test' });
    const holder = db.ds.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query(`SELECT 1 FROM billing_contacts WHERE stripe_customer_id = $1 FOR UPDATE`, [id]);
      let done = false;
      const applying = apply(customerEvent('customer.updated', customer({ id, email: 'ada@example.com' }), { created: 300 })).then((r) => ((done = true), r));
      await new Promise((r) => setTimeout(r, 400));
      expect(done).toBe(false);
      await holder.query(`UPDATE billing_contacts SET invoice_email = 'ap2@ops.test' WHERE stripe_customer_id = $1`, [id]);
      await holder.commitTransaction();
      expect((await applying).outcome).toBe('merged');
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    expect(await getContact(db.ds.manager, id)).toMatchObject({ invoiceEmail: 'ap2@ops.test', primaryEmail: 'ada@example.com' });
  });

  it('loses no write when operators and customer events race for a new customer', async () => {
    for (let round = 0; round < 5; round++) {
      const id = uid('cus');
      const events = Array.from({ length: 6 }, (_, i) => customerEvent('customer.updated', customer({ id, email: `v${i}@example.com` }), { created: 1000 + i }));
      await Promise.all([
        ...events.map((e) => apply(e)),
        ...Array.from({ length: 4 }, (_, i) => upsertContact(db.ds.manager, id, { invoiceEmail: `ap${i}@ops.test` })),
      ]);
      const contact = await getContact(db.ds.manager, id);
      expect(contact).toMatchObject({ stripeEmail: 'v5@example.com', stripeSyncedAt: new Date(1005_000), lastEventId: events[5]!['id'] });
      expect(contact?.invoiceEmail).toMatch(/^ap[0-3]@ops\.test$/);
      for (const e of events) expect(await eventRow(e['id'])).toMatchObject({ processed: true, last_error: null });
    }
  });
});

describe("a pending notice's fallback address, read when it is sent", () => {
  const drain = () => drainOnce(db.ds, smtp.url);

  /** An open invoice of `customer` with no customer_email: its invoice_issued notice is queued, pending. */
  async function pendingNotice(customerId: string): Promise<string> {
    const inv = openInvoice({ customer: customerId, customerEmail: null });
    await apply(finalizedEvent(inv));
    const id = inv['id'] as string;
    expect((await noticeRows(db.ds, [id])).map((r) => `${r.kind} ${r.status}`)).toEqual(['invoice_issued pending']);
    return id;
  }
  const recipientOf = async (invoiceId: string) => (await noticeRows(db.ds, [invoiceId]))[0]!.recipient;

  it('goes to the primary email a customer.updated set after the notice was queued', async () => {
    const id = uid('cus');
    const invoice = await pendingNotice(id);
    await apply(customerEvent('customer.updated', customer({ id, email: 'Owner@Customer.TEST' }), { created: wallNow() }));
    expect(await drain()).toBe(1);
    expect(smtp.messages.map((m) => m.envelopeTo)).toEqual([['Owner@customer.test']]);
    expect(await recipientOf(invoice)).toBe('Owner@customer.test');
  });

  it('after `contacts set --primary-email`: a newer customer.updated wins, then an older or replayed event changes nothing', async () => {
    const id = uid('cus');
    const t = wallNow() - 600;
    const created = customerEvent('customer.created', customer({ id, email: 'first@customer.test' }), { created: t });
    await apply(created);
    await upsertContact(db.ds.manager, id, { primaryEmail: 'ops@acme.test' });

    // The operator's address stands against a replay of what the row already holds.
    expect((await apply(created, {}, true)).outcome).toBe('unchanged');
    const a = await pendingNotice(id);
    await drain();
    expect(await recipientOf(a)).toBe('ops@acme.test');

    // A newer customer event replaces it.
    const newer = customerEvent('customer.updated', customer({ id, email: 'new@customer.test' }), { created: t + 10 });
    expect((await apply(newer)).outcome).toBe('merged');
    const b = await pendingNotice(id);
    await drain();
    expect(await recipientOf(b)).toBe('new@customer.test');

    // An older event delivered late, and a replay of the newer one, leave it.
    expect((await apply(customerEvent('customer.updated', customer({ id, email: 'older@customer.test' }), { created: t + 5 }))).outcome).toBe('unchanged');
    expect((await apply(newer, {}, true)).outcome).toBe('unchanged');
    expect((await apply(newer)).outcome).toBe('duplicate');
    const c = await pendingNotice(id);
    await drain();
    expect(await recipientOf(c)).toBe('new@customer.test');
    expect(smtp.messages.map((m) => m.envelopeTo)).toEqual([['ops@acme.test'], ['new@customer.test'], ['new@customer.test']]);
  });

  it('falls back to nothing when the newer customer has no usable email, and says so', async () => {
    const id = uid('cus');
    await upsertContact(db.ds.manager, id, { primaryEmail: 'ops@acme.test' });
    await apply(customerEvent('customer.updated', customer({ id, email: 'not an address' }), { created: wallNow() }));
    expect(await findCustomerContact(db.ds.manager, id)).toMatchObject({ primaryEmail: null, stripeEmail: 'not an address' });
    const invoice = await pendingNotice(id);
    await drain();
    expect((await noticeRows(db.ds, [invoice]))[0]).toMatchObject({ status: 'skipped', last_error: 'no_recipient' });
  });

  it("still sends a deleted customer's pending notice to the address the contact holds", async () => {
    const id = uid('cus');
    await apply(customerEvent('customer.created', customer({ id, email: 'owner@gone.test' }), { created: wallNow() - 60 }));
    const invoice = await pendingNotice(id);
    await apply(customerEvent('customer.deleted', deletedCustomerStub(id), { created: wallNow() }));
    await drain();
    expect(await recipientOf(invoice)).toBe('owner@gone.test');
    expect((await getContact(db.ds.manager, id))?.deletedAt).not.toBeNull();
  });
});

describe('thin events, fetched from Stripe', () => {
  const NOW = 1_800_000_000;
  const fetchObject = () => objectFetcher(createStripeClient({ secretKey: 'sk_test_thin', apiBase: api.url }, 'test'));
  const run = (e: Json) => applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => NOW, fetchObject: fetchObject() });

  it('fetches a voided credit note, as the connected account that owns it', async () => {
    const invoice = uid('in');
    const cn = voided(creditNote({ invoice, created: NOW - 100 }), NOW - 50);
    api.creditNotes.putAs('acct_1Thin', cn);
    const e: Json = { ...thinObjectEvent('v1.credit_note.voided', 'credit_note', cn['id'] as string), context: 'acct_1Thin' };
    expect(await run(e)).toMatchObject({ outcome: 'merged', type: 'credit_note.voided', object: 'credit_note', objectId: cn['id'] });
    expect(await findCreditNote(db.ds.manager, cn['id'] as string)).toMatchObject({ status: 'void', voidedAt: NOW - 50, stripeInvoiceId: invoice, lastEventCreatedAt: NOW });
    expect(api.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/credit_notes/${cn['id']}`, account: 'acct_1Thin', status: 200 });
    expect(await eventRow(e['id'])).toMatchObject({ stripe_invoice_id: invoice, processed: true });
  });

  it('refuses a thin event of a credit note Stripe does not have', async () => {
    const e = thinObjectEvent('v1.credit_note.created', 'credit_note', 'cn_Missing');
    await expect(run(e)).rejects.toThrow(/credit_note cn_Missing of thin event .* does not exist at Stripe/);
    expect((await eventRow(e['id']))?.last_error).toMatch(/does not exist at Stripe/);
  });

  it('reads a customer Stripe has deleted as its deletion, keeping what the row knew', async () => {
    const c = customer({ email: 'ada@example.com' });
    const id = c['id'] as string;
    await apply(customerEvent('customer.created', c, { created: NOW - 500 }));
    api.customers.put(c);
    api.customers.delete(id);
    expect(await run(thinObjectEvent('v1.customer.updated', 'customer', id))).toMatchObject({ outcome: 'merged', object: 'customer' });
    expect(await findCustomerContact(db.ds.manager, id)).toMatchObject({ primaryEmail: 'ada@example.com', stripeSyncedAt: NOW - 500, deletedAt: NOW });
  });

  it('takes a thin customer.deleted of a customer Stripe no longer knows as the deletion', async () => {
    const id = uid('cus');
    expect(await run(thinObjectEvent('v1.customer.deleted', 'customer', id))).toMatchObject({ outcome: 'merged' });
    expect(await findCustomerContact(db.ds.manager, id)).toEqual({ stripeCustomerId: id, primaryEmail: null, stripeEmail: null, name: null, deletedAt: NOW, stripeSyncedAt: null, lastEventId: null, stripeAccountId: null });
  });

  it('fetches a live customer for a thin customer.updated', async () => {
    const c = customer({ email: 'grace@example.com', name: 'Grace' });
    api.customers.put(c);
    await run(thinObjectEvent('v1.customer.updated', 'customer', c['id'] as string));
    expect(await findCustomerContact(db.ds.manager, c['id'] as string)).toMatchObject({ primaryEmail: 'grace@example.com', name: 'Grace', stripeSyncedAt: NOW });
  });
});

describe('the migration', () => {
  let own: TestDatabase;
  beforeAll(async () => {
    own = await createTestDatabase(2);
  });
  afterAll(async () => {
    await own?.drop();
  });

  it("undone, drops credit_notes and the Stripe columns of billing_contacts and keeps the operators' addresses; up() runs again", async () => {
    const id = uid('cus');
    await upsertContact(own.ds.manager, id, { invoiceEmail: 'ap@ops.test' });
    await applyEvent(own.ds, JSON.stringify(customerEvent('customer.updated', customer({ id, email: 'ada@example.com', name: 'Ada' }), { created: 100 })));
    await applyEvent(own.ds, JSON.stringify(creditNoteEvent('credit_note.created', creditNote())));
    const applied: string[] = ((await own.ds.query(`SELECT name FROM migrations ORDER BY id`)) as { name: string }[]).map((m) => m.name);
    const undone = applied.slice(applied.indexOf('CreditNotesAndCustomers1765100001000'));
    for (let i = 0; i < undone.length; i++) await own.ds.undoLastMigration({ transaction: 'each' });

    const columns = async () =>
      ((await own.ds.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'billing_contacts' ORDER BY column_name`)) as { column_name: string }[]).map((c) => c.column_name);
    expect(await columns()).toEqual(['invoice_email', 'primary_email', 'stripe_customer_id', 'updated_at']);
    expect(await own.ds.query(`SELECT to_regclass('credit_notes') AS t`)).toEqual([{ t: null }]);
    expect(await own.ds.query(`SELECT invoice_email, primary_email FROM billing_contacts WHERE stripe_customer_id = $1`, [id])).toEqual([
      { invoice_email: 'ap@ops.test', primary_email: 'ada@example.com' },
    ]);

    expect(await runMigrations(own.ds)).toEqual(undone);
    expect(await columns()).toEqual(['deleted_at', 'invoice_email', 'last_event_id', 'name', 'primary_email', 'stripe_account_id', 'stripe_customer_id', 'stripe_email', 'stripe_synced_at', 'updated_at']);
  });
});
