import { wallClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { prunedMatchingEvents, recordFailure } from '../../src/db/event-log';
import { noticeEffects } from '../../src/effects/notice-effects';
import { processBatch } from '../../src/pipeline/process-batch';
import type { BatchOutcome, ProcessOptions } from '../../src/pipeline/types';
import { eventState, recentEvents } from '../../src/read-models/event-log';
import { databaseStats } from '../../src/read-models/stats';
import { replayEvents } from '../../src/recovery/replay-events';
import { pruneEventPayloads, retentionCutoff } from '../../src/sweep/event-payload-retention';
import { SWEEP_PRUNE_LIMIT, sweepInvoices } from '../../src/sweep/invoice-sweep';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { event, invoice, paidLifecycle, uid } from '../support/stripe-events';

type Json = Record<string, unknown>;

const NOW = wallClock();
const options: ProcessOptions = { nowSeconds: () => NOW, effects: { notices: noticeEffects(ALL_NOTICES) } };
const DAY = 86_400;
/** What `--processed-before 90d` means now. */
const CUTOFF = retentionCutoff(NOW, 90);

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase(4);
});
afterEach(async () => {
  await db?.drop();
});

const idOf = (e: Json) => e['id'] as string;
const outcomeOf = (o: BatchOutcome) => (o.ok ? o.result.outcome : 'failed');

async function apply(events: Json[], force = false): Promise<string[]> {
  return (await processBatch(db.ds, events.map((e) => ({ body: JSON.stringify(e), force })), options)).map(outcomeOf);
}

/** Moves an event's processing (and receipt) back in time, as if it had happened `days` ago. */
async function age(ids: string[], days: number): Promise<void> {
  await db.ds.query(`UPDATE stripe_events SET received_at = now() - make_interval(days => $2), processed_at = CASE WHEN processed_at IS NULL THEN NULL ELSE now() - make_interval(days => $2) END WHERE id = ANY($1)`, [
    ids,
    days,
  ]);
}

interface EventRow {
  id: string;
  type: string;
  stripe_invoice_id: string | null;
  created: Date;
  processed_at: Date | null;
  pruned: boolean;
  payload_pruned_at: Date | null;
  attempts: number;
  last_error: string | null;
}

async function eventRows(ids: string[]): Promise<EventRow[]> {
  return db.ds.query(
    `SELECT id, type, stripe_invoice_id, created, processed_at, payload IS NULL AS pruned, payload_pruned_at, attempts, last_error
       FROM stripe_events WHERE id = ANY($1) ORDER BY id`,
    [ids],
  );
}

/** Everything the billing records hold about these invoices, exactly as stored. */
async function records(invoiceIds: string[]) {
  return {
    invoices: await db.ds.query(`SELECT * FROM invoices WHERE stripe_invoice_id = ANY($1) ORDER BY stripe_invoice_id`, [invoiceIds]),
    notices: await db.ds.query(`SELECT * FROM email_notices WHERE stripe_invoice_id = ANY($1) ORDER BY id`, [invoiceIds]),
  };
}

/**
 * Processed long ago, processed lately, stored long ago and never processed (no error: the process
 * died before its merge committed), and failing since long ago: each kind of row a log holds.
 */
async function mixedLog() {
  const oldInvoice = uid('in');
  const processedOld = paidLifecycle(oldInvoice, NOW - 200 * DAY);
  const newInvoice = uid('in');
  const processedNew = paidLifecycle(newInvoice, NOW - 10 * DAY);
  for (const lifecycle of [processedOld, processedNew]) expect(await apply(lifecycle)).not.toContain('failed');
  await age(processedOld.map(idOf), 120);
  await age(processedNew.map(idOf), 10);

  const strayInvoice = uid('in');
  const unprocessedOld = event('invoice.finalized', invoice({ id: strayInvoice, status: 'open' }), { created: NOW - 150 * DAY });
  await db.ds.query(`INSERT INTO stripe_events (id, type, stripe_invoice_id, created, livemode, payload) VALUES ($1, $2, $3, to_timestamp($4), false, $5)`, [
    idOf(unprocessedOld),
    unprocessedOld['type'],
    strayInvoice,
    unprocessedOld['created'],
    JSON.stringify(unprocessedOld),
  ]);
  const failedOld = event('invoice.paid', invoice({ id: uid('in'), status: 'paid' }), { created: NOW - 150 * DAY });
  const failedObject = (failedOld['data'] as { object: { id: string } }).object;
  await recordFailure(db.ds.manager, { id: idOf(failedOld), type: 'invoice.paid', stripeInvoiceId: failedObject.id, created: failedOld['created'] as number, livemode: false, apiVersion: null }, failedOld, 'QueryFailedError: deadlock detected');
  await age([idOf(unprocessedOld), idOf(failedOld)], 150);
  return { oldInvoice, newInvoice, processedOld, processedNew, unprocessedOld, failedOld };
}

describe('pruning event payloads', () => {
  it('takes only processed events older than the cutoff; recent, unprocessed and failing events and every billing record stay', async () => {
    const log = await mixedLog();
    const invoiceIds = [log.oldInvoice, log.newInvoice];
    const before = await records(invoiceIds);
    const kept = [...log.processedNew, log.unprocessedOld, log.failedOld].map(idOf);
    const keptBefore = await eventRows(kept);
    const oldBefore = await eventRows(log.processedOld.map(idOf));

    const result = await pruneEventPayloads(db.ds, { processedBefore: CUTOFF });
    expect(result).toMatchObject({ pruned: 6, dryRun: false, processedBefore: CUTOFF.toISOString() });
    expect(result.bytes).toBeGreaterThan(6 * 500);

    const oldAfter = await eventRows(log.processedOld.map(idOf));
    // Everything but the payload stays: the id (what makes a duplicate a duplicate), type, invoice, times, counts.
    expect(oldAfter.map(({ pruned, payload_pruned_at, ...rest }) => rest)).toEqual(oldBefore.map(({ pruned, payload_pruned_at, ...rest }) => rest));
    for (const r of oldAfter) {
      expect(r.pruned).toBe(true);
      expect(r.payload_pruned_at).toBeInstanceOf(Date);
    }
    expect(await eventRows(kept)).toEqual(keptBefore);
    expect(keptBefore.every((r) => !r.pruned)).toBe(true);
    expect(await records(invoiceIds)).toEqual(before);
    expect(before.invoices).toHaveLength(2);
    expect(before.notices.length).toBeGreaterThan(0);

    // Nothing is left to take: a second run finds nothing, and changes no prune time.
    expect(await pruneEventPayloads(db.ds, { processedBefore: CUTOFF })).toMatchObject({ pruned: 0, bytes: 0, batches: 1 });
    expect(await eventRows(log.processedOld.map(idOf))).toEqual(oldAfter);
  });

  it('a late duplicate of a pruned event is still a duplicate: no row, notice or payload changes', async () => {
    const log = await mixedLog();
    await pruneEventPayloads(db.ds, { processedBefore: CUTOFF });
    const before = await records([log.oldInvoice]);
    expect(before.notices.length).toBeGreaterThan(0);
    const rowsBefore = await eventRows(log.processedOld.map(idOf));

    // Stripe redelivers the whole lifecycle, in one batch with a new event, and one copy twice.
    const fresh = event('invoice.finalized', invoice({ id: uid('in'), status: 'open', customer: 'cus_test', currency: 'usd' }), { created: NOW - 60 });
    const late = [...log.processedOld, log.processedOld[4]!];
    expect(await apply([...late, fresh])).toEqual([...late.map(() => 'duplicate'), 'merged']);

    expect(await records([log.oldInvoice])).toEqual(before);
    const rowsAfter = await eventRows(log.processedOld.map(idOf));
    // Each receive counts; the payload stays pruned and the prune time stays.
    expect(rowsAfter.map((r) => r.attempts)).toEqual(rowsBefore.map((r) => r.attempts + (r.id === idOf(log.processedOld[4]!) ? 2 : 1)));
    expect(rowsAfter.map(({ attempts, ...rest }) => rest)).toEqual(rowsBefore.map(({ attempts, ...rest }) => rest));

    // A forced copy (a replayed message) merges its own payload again; the log keeps no payload.
    expect(await apply([log.processedOld[4]!], true)).toEqual(['unchanged']);
    expect(await records([log.oldInvoice])).toEqual(before);
    const [forced] = await eventRows([idOf(log.processedOld[4]!)]);
    expect(forced).toMatchObject({ pruned: true, payload_pruned_at: rowsBefore.find((r) => r.id === forced!.id)!.payload_pruned_at, last_error: null });
  });

  it('a dry run counts the events and bytes a prune would take and changes nothing', async () => {
    const log = await mixedLog();
    const ids = [...log.processedOld, ...log.processedNew, log.unprocessedOld, log.failedOld].map(idOf);
    const before = await eventRows(ids);
    const dry = await pruneEventPayloads(db.ds, { processedBefore: CUTOFF, dryRun: true });
    expect(dry).toMatchObject({ pruned: 6, dryRun: true, batches: 0 });
    expect(await eventRows(ids)).toEqual(before);
    const real = await pruneEventPayloads(db.ds, { processedBefore: CUTOFF });
    expect(real).toMatchObject({ pruned: dry.pruned, bytes: dry.bytes });
  });

  it('works in batches of its size, each a statement of its own, and stops at a limit', async () => {
    const lifecycles = Array.from({ length: 5 }, (_, i) => paidLifecycle(uid('in'), NOW - (300 - i) * DAY));
    for (const l of lifecycles) expect(await apply(l)).not.toContain('failed');
    const ids = lifecycles.flat().map(idOf);
    await age(ids, 100);

    const progress: number[] = [];
    const limited = await pruneEventPayloads(db.ds, { processedBefore: CUTOFF, batchSize: 7, limit: 10, onProgress: (n) => progress.push(n) });
    expect(limited).toMatchObject({ pruned: 10, batches: 2 });
    expect(progress).toEqual([7, 10]);
    const rest = await pruneEventPayloads(db.ds, { processedBefore: CUTOFF, batchSize: 7, onProgress: (n) => progress.push(n) });
    // 20 left: 7 + 7 + 6, the short batch ending the run.
    expect(rest).toMatchObject({ pruned: 20, batches: 3 });
    expect((await eventRows(ids)).every((r) => r.pruned)).toBe(true);
  });

  it('skips a row a consumer holds instead of waiting for it; the next run takes it', async () => {
    const lifecycle = paidLifecycle(uid('in'), NOW - 200 * DAY);
    await apply(lifecycle);
    await age(lifecycle.map(idOf), 100);
    const held = idOf(lifecycle[2]!);
    const consumer = db.ds.createQueryRunner();
    await consumer.connect();
    try {
      await consumer.startTransaction();
      // What a consumer's duplicate does: count the receive, holding the row until commit.
      await consumer.query(`UPDATE stripe_events SET attempts = attempts + 1 WHERE id = $1`, [held]);
      const started = Date.now();
      expect(await pruneEventPayloads(db.ds, { processedBefore: CUTOFF })).toMatchObject({ pruned: 5 });
      expect(Date.now() - started).toBeLessThan(5000);
      await consumer.commitTransaction();
    } finally {
      await consumer.release();
    }
    expect((await eventRows([held]))[0]).toMatchObject({ pruned: false });
    expect(await pruneEventPayloads(db.ds, { processedBefore: CUTOFF })).toMatchObject({ pruned: 1 });
  });

  it('the database itself refuses a pruned payload on an unprocessed event, or a missing payload without a prune time', async () => {
    const log = await mixedLog();
    await expect(db.ds.query(`UPDATE stripe_events SET payload = NULL, payload_pruned_at = now() WHERE id = $1`, [idOf(log.unprocessedOld)])).rejects.toMatchObject({
      code: '23514',
      constraint: 'stripe_events_pruned_processed_check',
    });
    await expect(db.ds.query(`UPDATE stripe_events SET payload = NULL WHERE id = $1`, [idOf(log.processedNew[0]!)])).rejects.toMatchObject({
      code: '23514',
      constraint: 'stripe_events_payload_pruned_check',
    });
  });
});

describe('readers of a pruned event', () => {
  it('`events` says the payload was pruned and when; `stats` counts pruned payloads', async () => {
    const log = await mixedLog();
    await pruneEventPayloads(db.ds, { processedBefore: CUTOFF });
    const listed = await recentEvents(db.ds, { invoiceId: log.oldInvoice, limit: 50 });
    expect(listed).toHaveLength(6);
    for (const e of listed) {
      expect(e.payloadPrunedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(eventState(e)).toBe(`processed, payload pruned ${e.payloadPrunedAt}`);
    }
    const recent = await recentEvents(db.ds, { invoiceId: log.newInvoice, limit: 50 });
    expect(recent.map((e) => [e.payloadPrunedAt, eventState(e)])).toEqual(recent.map(() => [null, 'processed']));
    expect(eventState({ processedAt: '2026-01-02T00:00:00.000Z', attempts: 6, deadLetteredAt: '2026-01-01T00:00:00.000Z', payloadPrunedAt: '2026-06-01T00:00:00.000Z' })).toBe(
      'processed (was dead-lettered 2026-01-01T00:00:00.000Z), payload pruned 2026-06-01T00:00:00.000Z',
    );
    expect((await databaseStats(db.ds)).events).toMatchObject({ total: 14, unprocessed: 2, failed: 1, payloadsPruned: 6 });
  });

  it('`replay events --force` leaves pruned events out instead of sending an empty event, and they can be counted', async () => {
    const log = await mixedLog();
    await pruneEventPayloads(db.ds, { processedBefore: CUTOFF });
    const forced = await replayEvents(db.ds, undefined, { invoiceId: log.oldInvoice, force: true }, { dryRun: true });
    expect(forced.events).toEqual([]);
    const pruned = await prunedMatchingEvents(db.ds.manager, { invoiceId: log.oldInvoice, force: true });
    expect(pruned.count).toBe(6);
    expect(pruned.firstPrunedAt).toBeInstanceOf(Date);
    // The events a replay is for (not processed) are never pruned, so nothing is missing from it.
    const unprocessed = await replayEvents(db.ds, undefined, {}, { dryRun: true });
    expect(unprocessed.events.map((e) => e.id).sort()).toEqual([idOf(log.unprocessedOld), idOf(log.failedOld)].sort());
    expect((await prunedMatchingEvents(db.ds.manager, {})).count).toBe(0);
    // A recent invoice still replays in full.
    expect((await replayEvents(db.ds, undefined, { invoiceId: log.newInvoice, force: true }, { dryRun: true })).events).toHaveLength(6);
  });
});

describe('the sweep with EVENT_PAYLOAD_RETENTION_DAYS', () => {
  it('prunes what is past the retention after the invoices, and nothing without one', async () => {
    const log = await mixedLog();
    expect(await sweepInvoices(db.ds, NOW, ALL_NOTICES, {})).not.toHaveProperty('eventPayloadsPruned');
    expect(await sweepInvoices(db.ds, NOW, ALL_NOTICES)).not.toHaveProperty('eventPayloadsPruned');
    expect((await eventRows(log.processedOld.map(idOf))).some((r) => r.pruned)).toBe(false);

    const config = loadConfig({ EVENT_PAYLOAD_RETENTION_DAYS: '90' });
    const swept = await sweepInvoices(db.ds, NOW, ALL_NOTICES, { eventPayloadRetentionDays: config.eventPayloadRetentionDays });
    expect(swept).toMatchObject({ eventPayloadsPruned: 6, flagged: expect.any(Number), reviewed: expect.any(Number) });
    expect((await eventRows(log.processedOld.map(idOf))).every((r) => r.pruned)).toBe(true);
    expect((await eventRows([...log.processedNew, log.unprocessedOld, log.failedOld].map(idOf))).some((r) => r.pruned)).toBe(false);

    // A longer retention leaves the 10-day-old events; 5 days takes them.
    expect(await sweepInvoices(db.ds, NOW, ALL_NOTICES, { eventPayloadRetentionDays: 30 })).toMatchObject({ eventPayloadsPruned: 0 });
    expect(await sweepInvoices(db.ds, NOW, ALL_NOTICES, { eventPayloadRetentionDays: 5 })).toMatchObject({ eventPayloadsPruned: 6 });
  });

  it('a prune that fails is said apart: the invoices were swept, the run still counts', async () => {
    // The database refuses the prune's update, as a lock timeout or a lost connection would.
    await db.ds.query(`CREATE FUNCTION refuse_prune() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.payload IS NULL THEN RAISE EXCEPTION 'prune refused by the test'; END IF; RETURN NEW; END $$`);
    await db.ds.query(`CREATE TRIGGER refuse_prune BEFORE UPDATE ON stripe_events FOR EACH ROW EXECUTE FUNCTION refuse_prune()`);
    try {
      await mixedLog();
      const swept = await sweepInvoices(db.ds, NOW, ALL_NOTICES, { eventPayloadRetentionDays: 5 });
      expect(swept).toMatchObject({ flagged: expect.any(Number), reviewed: expect.any(Number), eventPayloadPruneError: expect.stringContaining('prune refused by the test') });
      expect(swept).not.toHaveProperty('eventPayloadsPruned');
    } finally {
      await db.ds.query(`DROP TRIGGER refuse_prune ON stripe_events`);
      await db.ds.query(`DROP FUNCTION refuse_prune()`);
    }
  });

  it('takes at most its share per run, so the first run after a retention is set ends in time', async () => {
    const n = SWEEP_PRUNE_LIMIT + 50;
    // A log of years, written straight into the table: the pipeline would take minutes for it.
    await db.ds.query(
      `INSERT INTO stripe_events (id, type, created, livemode, payload, received_at, processed_at, attempts)
       SELECT 'evt_bulk_' || g, 'invoice.updated', now() - interval '400 days', false, jsonb_build_object('id', 'evt_bulk_' || g, 'pad', repeat('x', 200)),
              now() - interval '400 days', now() - interval '400 days', 1
         FROM generate_series(1, $1) AS g`,
      [n],
    );
    expect(await sweepInvoices(db.ds, NOW, ALL_NOTICES, { eventPayloadRetentionDays: 90 })).toMatchObject({ eventPayloadsPruned: SWEEP_PRUNE_LIMIT });
    expect(await sweepInvoices(db.ds, NOW, ALL_NOTICES, { eventPayloadRetentionDays: 90 })).toMatchObject({ eventPayloadsPruned: 50 });
    expect(await db.ds.query(`SELECT count(*)::int AS n FROM stripe_events WHERE payload IS NULL`)).toEqual([{ n }]);
  });
});
