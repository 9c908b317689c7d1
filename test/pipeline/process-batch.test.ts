import { MalformedEventError } from '../../src/errors';
import { noticeEffects } from '../../src/effects/notice-effects';
import { applyMessages, processBatch, readMessages } from '../../src/pipeline/process-batch';
import type { BatchOutcome, ProcessOptions } from '../../src/pipeline/types';
import { applyEvent } from '../support/apply-event';
import { findInvoice } from '../../src/db/invoices';
import type { DataSource } from 'typeorm';
import { eventId, resentAs, seededRandom, shuffle, testSeed, voidLifecycle, type StripeEvent } from '../integration/helpers';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { event, invoice, paidLifecycle, uid } from '../support/stripe-events';
import { expectedFinalRow } from '../support/expected-invoice-row';

const NOW = 1_700_000_000 + 40 * 86_400;
const options: ProcessOptions = { nowSeconds: () => NOW, effects: { notices: noticeEffects(ALL_NOTICES) } };

let db: TestDatabase;
let reference: TestDatabase;
beforeAll(async () => {
  [db, reference] = await Promise.all([createTestDatabase(6), createTestDatabase(3)]);
});
afterAll(async () => {
  await Promise.all([db?.drop(), reference?.drop()]);
});

const items = (events: StripeEvent[], force = false) => events.map((e) => ({ body: JSON.stringify(e), force }));
const outcomeOf = (o: BatchOutcome) => (o.ok ? o.result.outcome : 'failed');
const invoiceIdOf = (e: StripeEvent) => (e['data'] as { object: { id: string } }).object.id;

/** Lifecycles of every shape the outbox reacts to, with Stripe's second ids and redeliveries, shuffled. */
function workload(invoices: number, seed: number): StripeEvent[] {
  const random = seededRandom(seed);
  const messages: StripeEvent[] = [];
  for (let i = 0; i < invoices; i++) {
    const id = uid('in');
    const start = 1_700_000_000 + i * 10;
    // Due before NOW (overdue and reminders), after NOW (due soon), none, and void.
    const lifecycle =
      i % 4 === 3 ? voidLifecycle(id, start) : paidLifecycle(id, start, { amount: 100 + i, dueDate: i % 4 === 0 ? start + 86_400 : i % 4 === 1 ? NOW + 86_400 : null });
    // Some stop before they are paid, so dunning stays live at the end.
    const seen = i % 5 === 0 ? lifecycle.slice(0, 3) : lifecycle;
    messages.push(...seen, resentAs(seen[Math.floor(random() * seen.length)]!));
    for (let k = 0; k < 2; k++) messages.push(seen[Math.floor(random() * seen.length)]!);
  }
  return shuffle(messages, random);
}

async function snapshotOf(ds: DataSource, invoiceIds: string[]) {
  const invoices = await ds.query(
    `SELECT * FROM invoices WHERE stripe_invoice_id = ANY($1) ORDER BY stripe_invoice_id`,
    [invoiceIds],
  );
  for (const r of invoices) for (const k of ['id', 'created_at', 'updated_at']) delete r[k];
  const events = await ds.query(
    `SELECT id, processed_at IS NOT NULL AS processed, attempts, last_error FROM stripe_events WHERE stripe_invoice_id = ANY($1) ORDER BY id`,
    [invoiceIds],
  );
  const notices = await ds.query(
    `SELECT stripe_invoice_id, kind, sequence, status, created_at FROM email_notices WHERE stripe_invoice_id = ANY($1) ORDER BY stripe_invoice_id, kind, sequence`,
    [invoiceIds],
  );
  return { invoices, events, notices };
}

describe('a batch in one transaction', () => {
  it('leaves the rows, event log and outbox that applying its messages one at a time leaves', async () => {
    const messages = workload(40, testSeed(61));
    const batched: string[] = [];
    for (let i = 0; i < messages.length; i += 10) {
      batched.push(...(await processBatch(db.ds, items(messages.slice(i, i + 10)), options)).map(outcomeOf));
    }
    const oneByOne: string[] = [];
    for (const m of messages) oneByOne.push((await applyEvent(reference.ds, JSON.stringify(m), options)).outcome);

    expect(batched).toEqual(oneByOne);
    const ids = [...new Set(messages.map(invoiceIdOf))];
    const [a, b] = await Promise.all([snapshotOf(db.ds, ids), snapshotOf(reference.ds, ids)]);
    expect(a.invoices).toHaveLength(ids.length);
    expect(a.notices.length).toBeGreaterThan(ids.length);
    expect(a).toEqual(b);
  });

  it('reviews dunning after each change of one receive as one at a time would, seeing the notices queued before it', async () => {
    // Overdue for 6.5 days: the first review queues the overdue notice, and the next reviews must
    // see it (a day's gap) although the next stage would begin sooner.
    const id = uid('in');
    const due = NOW - Math.round(7.5 * 86_400);
    const [, finalized, failed, updated] = paidLifecycle(id, due - 20 * 86_400, { dueDate: due });
    const batch = [finalized!, failed!, updated!];
    await processBatch(db.ds, items(batch), options);
    for (const m of batch) await applyEvent(reference.ds, JSON.stringify(m), options);
    const [a, b] = await Promise.all([snapshotOf(db.ds, [id]), snapshotOf(reference.ds, [id])]);
    expect(a.notices.map((n: { kind: string }) => n.kind)).toContain('overdue');
    expect(a).toEqual(b);
  });

  it('counts a second copy of an event in the same receive as its duplicate, and as a receive', async () => {
    const [, finalized] = paidLifecycle(uid('in'), 1_700_000_000);
    const outcomes = await processBatch(db.ds, items([finalized!, finalized!]), options);
    expect(outcomes.map(outcomeOf)).toEqual(['merged', 'duplicate']);
    const [row] = await db.ds.query(`SELECT attempts, processed_at IS NOT NULL AS processed FROM stripe_events WHERE id = $1`, [eventId(finalized!)]);
    expect(row).toEqual({ attempts: 2, processed: true });
    await processBatch(db.ds, items([finalized!]), options);
    const [again] = await db.ds.query(`SELECT attempts FROM stripe_events WHERE id = $1`, [eventId(finalized!)]);
    expect(again).toEqual({ attempts: 3 });
  });

  it('skips events already processed unless the message is a forced replay', async () => {
    const id = uid('in');
    const [created, finalized] = paidLifecycle(id, 1_700_000_000);
    await processBatch(db.ds, items([created!, finalized!]), options);
    // An engineer changed the row by hand; only a forced replay merges the events again.
    await db.ds.query(`UPDATE invoices SET amount_cents = 1 WHERE stripe_invoice_id = $1`, [id]);
    expect((await processBatch(db.ds, items([created!, finalized!]), options)).map(outcomeOf)).toEqual(['duplicate', 'duplicate']);
    expect((await findInvoice(db.ds.manager, id))?.amountCents).toBe(1);
    const forced = await processBatch(db.ds, items([created!, finalized!], true), options);
    expect(forced.map(outcomeOf)).toEqual(['unchanged', 'unchanged']);
    // Marked as applied before, so the metrics give it no lag.
    expect(forced.map((o) => o.ok && o.result.reapplied)).toEqual([true, true]);
    const fresh = await processBatch(db.ds, items(paidLifecycle(uid('in'), 1_700_000_000).slice(0, 1), true), options);
    expect(fresh.map((o) => o.ok && o.result.reapplied)).toEqual([undefined]);
  });
});

describe('one bad message in a batch', () => {
  beforeAll(async () => {
    // A database that refuses one event, as a constraint or trigger an operator added would: the
    // failure happens inside the batch's transaction, where only the fallback can isolate it.
    await db.ds.query(`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id LIKE 'evt_poison%' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
    await db.ds.query(`CREATE TRIGGER refuse_poison BEFORE INSERT ON stripe_events FOR EACH ROW EXECUTE FUNCTION refuse_poison()`);
  });

  it('fails alone when the database refuses its event; the others commit once, in their own transactions', async () => {
    const good = Array.from({ length: 9 }, () => paidLifecycle(uid('in'), 1_700_000_000)[1]!);
    const bad = event('invoice.finalized', invoice({ id: uid('in'), status: 'open' }), { id: uid('evt_poison') });
    const batch = [...good.slice(0, 4), bad, ...good.slice(4)];

    const outcomes = await processBatch(db.ds, items(batch), options);

    expect(outcomes.map(outcomeOf)).toEqual(['merged', 'merged', 'merged', 'merged', 'failed', 'merged', 'merged', 'merged', 'merged', 'merged']);
    expect(String((outcomes[4] as { error: unknown }).error)).toMatch(/refused by the test/);
    const rows = await db.ds.query(`SELECT id, attempts, last_error FROM stripe_events WHERE id = ANY($1) ORDER BY id`, [batch.map(eventId)]);
    expect(rows).toEqual(good.map((e) => ({ id: eventId(e), attempts: 1, last_error: null })).sort((x, y) => (x.id < y.id ? -1 : 1)));
    for (const e of good) expect(await findInvoice(db.ds.manager, invoiceIdOf(e))).toMatchObject({ status: 'open' });
    expect(await findInvoice(db.ds.manager, invoiceIdOf(bad))).toBeNull();
  });

  it('fails a body that is not an event before the transaction, and processes the rest together', async () => {
    const good = Array.from({ length: 3 }, () => paidLifecycle(uid('in'), 1_700_000_000)[1]!);
    const outcomes = await processBatch(db.ds, [...items(good.slice(0, 1)), { body: '{"id": "evt_cut', force: false }, ...items(good.slice(1))], options);
    expect(outcomes.map(outcomeOf)).toEqual(['merged', 'failed', 'merged', 'merged']);
    expect((outcomes[1] as { error: unknown }).error).toBeInstanceOf(MalformedEventError);
  });
});

describe('batches racing on the same invoices', () => {
  it('converge to the chronological rows, with every event processed once, each receive counted, and none failed', async () => {
    const random = seededRandom(testSeed(4_242));
    const lifecycles = Array.from({ length: 12 }, (_, i) => paidLifecycle(uid('in'), 1_700_000_000 + i * 10, { amount: 300 + i }));
    // Every message three times over, so copies of one event sit in batches being processed at once.
    const messages = shuffle(lifecycles.flatMap((l) => [...l, ...l, ...l]), random);
    let next = 0;
    const outcomes: BatchOutcome[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < messages.length) {
          const batch = messages.slice(next, next + 10);
          next += 10;
          outcomes.push(...(await processBatch(db.ds, items(batch), options)));
        }
      }),
    );

    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const ids = lifecycles.flat().map(eventId);
    const rows = await db.ds.query(`SELECT attempts, last_error, processed_at IS NOT NULL AS processed FROM stripe_events WHERE id = ANY($1)`, [ids]);
    expect(rows).toHaveLength(ids.length);
    expect(rows.filter((r: { attempts: number; last_error: string | null; processed: boolean }) => r.attempts !== 3 || r.last_error !== null || !r.processed)).toEqual([]);
    for (const l of lifecycles) {
      expect(await findInvoice(db.ds.manager, invoiceIdOf(l[0]!))).toEqual(expectedFinalRow(l, NOW));
    }
  });
});

describe('batches overlapping on invoices that do and do not exist yet', () => {
  // Found by the end-to-end benchmark: with row locks alone, a batch locked the invoices that
  // existed, then inserted the new ones, then locked those another batch had inserted first, and
  // two batches overlapping on several invoices deadlocked across those passes. PostgreSQL broke
  // each cycle after its one-second deadlock_timeout and the batch fell back to one transaction
  // per message: nothing was lost, but every such batch stalled for a second.
  it('never deadlock, so no batch falls back to one transaction per message', async () => {
    const random = seededRandom(testSeed(9_090));
    const fallbacks: string[] = [];
    const watched: ProcessOptions = { ...options, onBatchFallback: (err) => fallbacks.push((err as Error).message) };
    // Rounds of fresh invoices whose events are spread over the concurrent batches, so most
    // batches hold invoices that some other batch is creating at the same moment.
    for (let round = 0; round < 6; round++) {
      const lifecycles = Array.from({ length: 30 }, (_, i) => paidLifecycle(uid('in'), 1_700_000_000 + i * 10, { amount: 500 + i }));
      const messages = shuffle(lifecycles.flat(), random);
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < messages.length) {
            const batch = messages.slice(next, next + 10);
            next += 10;
            await processBatch(db.ds, items(batch), watched);
          }
        }),
      );
    }
    expect(fallbacks).toEqual([]);
  });
});

describe('receives read apart and applied together, as the worker groups them', () => {
  it('records a message that cannot be applied when it is read, and gives each message of the group its own outcome, in order', async () => {
    const [a1, a2, b1] = Array.from({ length: 3 }, () => paidLifecycle(uid('in'), 1_700_000_000)[1]!);
    const noInvoiceId = event('invoice.finalized', { object: 'invoice', status: 'open' }, { id: uid('evt') });
    const first = await readMessages(db.ds, items([a1, noInvoiceId, a2]), options);
    const second = await readMessages(db.ds, items([b1, a2]), options);

    // Read and not applied: only the unusable event is in the log, with its reason.
    const logged = async () =>
      db.ds.query(`SELECT id, processed_at IS NOT NULL AS processed, attempts, last_error FROM stripe_events WHERE id = ANY($1) ORDER BY id`, [[a1, noInvoiceId, a2, b1].map(eventId)]);
    expect(await logged()).toEqual([{ id: eventId(noInvoiceId), processed: false, attempts: 1, last_error: expect.stringMatching(/missing/) }]);
    for (const e of [a1, a2, b1]) expect(await findInvoice(db.ds.manager, invoiceIdOf(e))).toBeNull();

    const outcomes = await applyMessages(db.ds, [...first, ...second], options);
    expect(outcomes.map(outcomeOf)).toEqual(['merged', 'failed', 'merged', 'merged', 'duplicate']);
    expect((outcomes[1] as { error: unknown }).error).toBeInstanceOf(MalformedEventError);
    for (const e of [a1, a2, b1]) expect(await findInvoice(db.ds.manager, invoiceIdOf(e))).toMatchObject({ status: 'open' });
    // Both copies of a2 were received: the group's one transaction counts them on its one row.
    const rows = await logged();
    expect(rows.find((r: { id: string }) => r.id === eventId(a2))).toMatchObject({ processed: true, attempts: 2 });
    expect(rows.find((r: { id: string }) => r.id === eventId(noInvoiceId))).toMatchObject({ processed: false, attempts: 1 });
  });
});
