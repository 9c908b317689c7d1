import { MalformedEventError } from '../../src/errors';
import { applyEvent } from '../support/apply-event';
import { findInvoice } from '../../src/db/invoices';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { event, fixture, invoice, paidLifecycle, uid } from '../support/stripe-events';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const run = (e: unknown, now = 2_000_000_000) => applyEvent(db.ds, JSON.stringify(e), { nowSeconds: () => now });

describe('happy path', () => {
  it('stores the event and the invoice row with finance columns', async () => {
    const id = uid('in');
    const [created, finalized] = paidLifecycle(id, 1_700_000_000);
    const r = await run(finalized);
    expect(r).toMatchObject({ outcome: 'merged', object: 'invoice', objectId: id, type: 'invoice.finalized' });
    await run(created);
    const row = await findInvoice(db.ds.manager, id);
    expect(row).toMatchObject({ status: 'open', amountCents: 1000, amountRemainingCents: 1000, currency: 'usd', finalizedAt: 1_700_000_001 });
    const [ev] = await db.ds.query(`SELECT type, processed_at, attempts, last_error, payload->>'id' AS pid FROM stripe_events WHERE id = $1`, [finalized!['id']]);
    expect(ev).toMatchObject({ type: 'invoice.finalized', attempts: 1, last_error: null, pid: finalized!['id'] });
    expect(ev.processed_at).toBeInstanceOf(Date);
  });

  it('writes a lone event’s row once, already marked processed: no second version of its payload', async () => {
    // Counts every UPDATE of the event log while the message is applied.
    await db.ds.query(`CREATE TABLE IF NOT EXISTS event_row_updates (id text)`);
    await db.ds.query(`CREATE OR REPLACE FUNCTION count_event_row_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO event_row_updates VALUES (NEW.id); RETURN NEW; END $$`);
    await db.ds.query(`CREATE OR REPLACE TRIGGER count_event_row_update BEFORE UPDATE ON stripe_events FOR EACH ROW EXECUTE FUNCTION count_event_row_update()`);
    try {
      const [, finalized] = paidLifecycle(uid('in'), 1_700_000_000);
      expect((await run(finalized)).outcome).toBe('merged');
      const [ev] = await db.ds.query(`SELECT processed_at IS NOT NULL AS processed, attempts FROM stripe_events WHERE id = $1`, [finalized!['id']]);
      expect(ev).toEqual({ processed: true, attempts: 1 });
      expect(await db.ds.query(`SELECT id FROM event_row_updates WHERE id = $1`, [finalized!['id']])).toEqual([]);
    } finally {
      await db.ds.query(`DROP TRIGGER count_event_row_update ON stripe_events`);
    }
  });

  it('treats a known event id as a no-op but for counting the receive', async () => {
    const id = uid('in');
    const [, finalized] = paidLifecycle(id, 1_700_000_000);
    await run(finalized);
    const again = await run(finalized);
    expect(again.outcome).toBe('duplicate');
    // Each receive counts, the duplicate's too.
    const [ev] = await db.ds.query(`SELECT attempts FROM stripe_events WHERE id = $1`, [finalized!['id']]);
    expect(ev.attempts).toBe(2);
  });

  it('converges whatever the order, ending paid when finalized, updated and paid share a second', async () => {
    const id = uid('in');
    const events = paidLifecycle(id, 1_700_000_000);
    for (const e of [...events].reverse()) await run(e);
    const row = await findInvoice(db.ds.manager, id);
    expect(row).toMatchObject({ status: 'paid', amountPaidCents: 1000, amountRemainingCents: 0, paidAt: 1_700_000_003, overdue: false, attemptCount: 1 });
  });

  it('keeps a deleted draft deleted, even when its stub arrives first', async () => {
    const id = uid('in');
    const stub = event('invoice.deleted', { ...fixture('deleted_invoice_fixture.json'), id }, { created: 1_700_000_010 });
    const draft = event('invoice.created', invoice({ id, status: 'draft' }), { created: 1_700_000_000 });
    await run(stub);
    await run(draft);
    const row = await findInvoice(db.ds.manager, id);
    expect(row).toMatchObject({ status: 'draft', deletedAt: 1_700_000_010, currency: 'usd' });
  });

  it('flags an open invoice past its due date with money owed', async () => {
    const id = uid('in');
    const due = 1_700_100_000;
    const [, finalized] = paidLifecycle(id, 1_700_000_000, { dueDate: due });
    await run(finalized, due + 10);
    expect((await findInvoice(db.ds.manager, id))?.overdue).toBe(true);
  });
});

describe('bad input', () => {
  it('refuses a body that is not JSON', async () => {
    await expect(applyEvent(db.ds, 'not json')).rejects.toThrow(MalformedEventError);
  });

  it('records a verified event with an unusable invoice, with the reason, and touches no row', async () => {
    const id = uid('in');
    const bad = event('invoice.paid', invoice({ id, amount_due: 'lots' }));
    await expect(run(bad)).rejects.toThrow(/amount_due/);
    const [ev] = await db.ds.query(`SELECT processed_at, attempts, last_error FROM stripe_events WHERE id = $1`, [bad['id']]);
    expect(ev.processed_at).toBeNull();
    expect(ev.last_error).toMatch(/amount_due/);
    expect(await findInvoice(db.ds.manager, id)).toBeNull();
  });

  // Verified events of a handled type that cannot be used: never acknowledged without a trace.
  it.each<[string, () => Record<string, unknown>, RegExp]>([
    ['an object that is not an invoice', () => event('invoice.paid', { id: uid('cus'), object: 'customer' }), /object/],
    ['an invoice without an id', () => event('invoice.paid', invoice({ id: undefined })), /id: missing/],
    ['an invoice whose id is not a string', () => event('invoice.paid', invoice({ id: 42 as unknown as string })), /id/],
    ['no object at all', () => ({ ...event('invoice.paid', invoice()), data: {} }), /object/],
  ])('stores an event with %s in the event log with its reason, unprocessed', async (_name, build, reason) => {
    const bad = build();
    await expect(run(bad)).rejects.toBeInstanceOf(MalformedEventError);
    const [ev] = await db.ds.query(`SELECT processed_at, attempts, last_error FROM stripe_events WHERE id = $1`, [bad['id']]);
    expect(ev).toMatchObject({ processed_at: null, attempts: 1 });
    expect(ev.last_error).toMatch(reason);
  });
});
