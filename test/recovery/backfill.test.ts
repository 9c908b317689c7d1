/**
 * backfill against real services: PostgreSQL, the SQS emulator, the Stripe API test server
 * through the real SDK, and the real consumer draining what it enqueued.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type Stripe from 'stripe';
import { applyEvent } from '../support/apply-event';
import { EventQueue } from '../../src/queue/event-queue';
import { createSqsClient } from '../../src/queue/sqs-client';
import { backfill, BackfillInterruptedError, QueueUnreachableError } from '../../src/recovery/backfill';
import { StripeApiError } from '../../src/recovery/stripe-pages';
import { createStripeClient } from '../../src/stripe/api-client';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startProcessor } from '../support/processor';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { chargeObject, creditNoteObject, customerObject, invoicePaymentObject, refundObject } from '../support/stripe-api/objects';
import { event, invoice, paidLifecycle, uid } from '../support/stripe-events';
import { billing, deadUrl, requireBuild, warnings } from './cli-helper';
import { waitFor } from '../support/wait';

const KEY = 'sk_test_backfill0123456789abcdef';
const NOW = Math.floor(Date.now() / 1000);
const SINCE = new Date((NOW - 86_400) * 1000);
const UNTIL = new Date((NOW + 60) * 1000);

let db: TestDatabase;
let sqs: TestSqs;
let api: StripeApi;
let stripe: Stripe;

beforeAll(async () => {
  [db, sqs, api] = await Promise.all([createTestDatabase(), startTestSqs(), startStripeApi()]);
  stripe = createStripeClient({ secretKey: KEY, apiBase: api.url }, 'backfill');
});
afterAll(async () => {
  await Promise.all([db?.drop(), sqs?.stop(), api?.stop()]);
});
beforeEach(async () => {
  api.reset();
  await drain();
});

/** Empties the queue between tests (the emulator allows one PurgeQueue a minute, as SQS does). */
async function drain(): Promise<void> {
  for (;;) {
    const res = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const messages = res.Messages ?? [];
    if (messages.length === 0) return;
    await sqs.client.send(
      new DeleteMessageBatchCommand({ QueueUrl: sqs.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  }
}

/** One message's body, left on the queue (visible again at once) for the consumer. */
async function peek(): Promise<string | undefined> {
  const res = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, VisibilityTimeout: 0 }));
  return res.Messages?.[0]?.Body;
}

/** `n` paid invoices' lifecycles (6 events each), an hour ago, and their invoice ids. */
function lifecycles(n: number, start = NOW - 3600) {
  const invoices = Array.from({ length: n }, () => uid('in'));
  const events = invoices.flatMap((id, i) => paidLifecycle(id, start + i * 10));
  return { invoices, events };
}

/** invoice.upcoming carries a preview without an id; `invoice.*` lists it, the processor must not take it. */
const upcoming = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const preview = invoice({ status: 'draft' });
    delete preview['id'];
    return event('invoice.upcoming', preview, { created: NOW - 1800 + i });
  });

const queue = () => new EventQueue(sqs.client, sqs.queueUrl);

async function processedCount(ids: string[]): Promise<number> {
  const [r] = await db.ds.query(`SELECT count(*)::int AS n FROM stripe_events WHERE id = ANY($1) AND processed_at IS NOT NULL`, [ids]);
  return r.n;
}

describe('backfill', () => {
  it('pages through 250 events, rides out a 429 and a 500, skips previews, disputes and known ids, and the consumer merges the rest', async () => {
    const { invoices, events } = lifecycles(40);
    const previews = upcoming(10);
    const older = paidLifecycle(uid('in'), NOW - 3 * 86_400);
    // charge.* lists disputes too; no kind carries them.
    api.events.add(...events, ...previews, ...older, event('charge.dispute.created', { id: 'dp_x', object: 'dispute' }, { created: NOW - 60 }));
    // Five events the consumer already has (the webhook got them before the outage).
    const knownIds = events.filter((e) => e['type'] === 'invoice.created').slice(0, 5).map((e) => e['id'] as string);
    for (const e of events.filter((x) => knownIds.includes(x['id'] as string))) await applyEvent(db.ds, JSON.stringify(e));

    const log = warnings();
    let ticks = 0;
    const progress = {
      total: (n: number) => {
        // Rate limit and a server error on the second page, after the first has been enqueued.
        if (n === 100) {
          api.failNext(429, 1);
          api.failNext(500, 1);
        }
      },
      tick: () => void ticks++,
    };
    const result = await backfill({ stripe, ds: db.ds, queue: queue(), logger: log.logger, progress, backoff: { baseMs: 1 } }, { since: SINCE, until: UNTIL });

    // Three pages of invoice.*, and one of each other kind's pattern.
    expect(result).toMatchObject({ dryRun: false, pages: 3 + 5, listed: 251, enqueued: 235, alreadyKnown: 5, skipped: 11 });
    expect(ticks).toBe(251);
    expect(result.ids.alreadyKnown.map((r) => r.id).sort()).toEqual([...knownIds].sort());
    expect(new Set(result.ids.skipped.map((r) => r.type))).toEqual(new Set(['invoice.upcoming', 'charge.dispute.created']));
    expect(new Set(result.ids.enqueued.map((r) => r.objectId))).toEqual(new Set(invoices));

    const invoicePages = api.requests.filter((r) => r.query['type'] === 'invoice.*');
    expect(invoicePages.map((r) => r.status)).toEqual([200, 429, 500, 200, 200]);
    for (const r of api.requests) {
      expect(r).toMatchObject({ path: '/v1/events', status: expect.any(Number), query: { limit: '100', created: { gte: String(NOW - 86_400), lte: String(NOW + 60) } } });
    }
    // The retries ask for the same page again; each page starts after the last one's final event.
    const cursors = invoicePages.map((r) => r.query['starting_after']);
    expect(cursors[0]).toBeUndefined();
    expect(cursors[1]).toEqual(expect.any(String));
    expect(cursors[2]).toBe(cursors[1]);
    expect(cursors[3]).toBe(cursors[1]);
    expect(cursors[4]).not.toBe(cursors[3]);
    expect(log.seen.map((w) => w.msg)).toEqual(['Stripe API call failed; backing off', 'Stripe API call failed; backing off']);
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(235);

    // What went to the queue is Stripe's event exactly as listed.
    const sample = await peek();
    const parsed = JSON.parse(sample!) as Record<string, unknown>;
    expect(parsed).toEqual(api.events.get(parsed['id'] as string));

    const processor = await startProcessor({ databaseUrl: db.url, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, endpoint: sqs.endpoint, roles: ['worker'] });
    try {
      const allIds = events.map((e) => e['id'] as string);
      await waitFor('every backfilled event to be processed', async () => (await processedCount(allIds)) === 240, 60_000);
    } finally {
      await processor.stop();
    }
    const rows: { status: string; amount_paid_cents: string; paid_at: Date | null }[] = await db.ds.query(
      `SELECT status, amount_paid_cents, paid_at FROM invoices WHERE stripe_invoice_id = ANY($1)`,
      [invoices],
    );
    expect(rows).toHaveLength(40);
    expect(rows.every((r) => r.status === 'paid' && Number(r.amount_paid_cents) === 1000 && r.paid_at !== null)).toBe(true);
    const [{ n: notices }] = await db.ds.query(`SELECT count(*)::int AS n FROM email_notices WHERE stripe_invoice_id = ANY($1) AND kind = 'invoice_paid'`, [invoices]);
    expect(notices).toBe(40);

    // Once processed, a second backfill of the same window has nothing to send.
    api.requests.length = 0;
    const again = await backfill({ stripe, ds: db.ds, queue: queue(), logger: log.logger, backoff: { baseMs: 1 } }, { since: SINCE, until: UNTIL });
    expect(again).toMatchObject({ listed: 251, enqueued: 0, alreadyKnown: 240, skipped: 11 });
    expect(api.requests).toHaveLength(3 + 5);
  }, 120_000);

  it('replays missed events with their notices, but records those of events older than NOTICE_MAX_EVENT_AGE_HOURS as stale', async () => {
    const fresh = uid('in');
    const old = uid('in');
    // The outage began four days ago; Stripe stopped retrying the oldest events after 72 hours.
    const events = [...paidLifecycle(fresh, NOW - 3600), ...paidLifecycle(old, NOW - 4 * 86_400)];
    api.events.add(...events);
    // A queue of its own: a stopped worker's last long poll may still take what the next test sends.
    const own = await startTestSqs();
    const result = await backfill(
      { stripe, ds: db.ds, queue: new EventQueue(own.client, own.queueUrl), logger: warnings().logger, backoff: { baseMs: 1 } },
      { since: new Date((NOW - 5 * 86_400) * 1000) },
    );
    expect(result.enqueued).toBe(12);

    const processor = await startProcessor({ databaseUrl: db.url, queueUrl: own.queueUrl, dlqUrl: own.dlqUrl, endpoint: own.endpoint, roles: ['worker'] });
    try {
      await waitFor('every backfilled event to be processed', async () => (await processedCount(events.map((e) => e['id'] as string))) === 12, 60_000);
    } finally {
      await processor.stop();
      await own.stop();
    }
    const notices = async (id: string) =>
      ((await db.ds.query(`SELECT kind, sequence, status, last_error FROM email_notices WHERE stripe_invoice_id = $1 ORDER BY kind`, [id])) as Array<{ kind: string; sequence: number; status: string; last_error: string | null }>).map(
        (n) => `${n.kind}#${n.sequence} ${n.status}${n.last_error ? ` ${n.last_error}` : ''}`,
      );
    expect(await notices(fresh)).toEqual(['invoice_issued#0 pending', 'invoice_paid#0 pending', 'payment_failed#1 pending']);
    expect(await notices(old)).toEqual(['invoice_issued#0 skipped stale', 'invoice_paid#0 skipped stale', 'payment_failed#1 skipped stale']);
  });

  it('lists every kind’s pattern once and enqueues exactly the events a kind carries: not disputes, previews or a customer’s subscriptions', async () => {
    const t = NOW - 1800;
    const inv = paidLifecycle(uid('in'), t);
    const invoiceId = (inv[0]!['data'] as { object: { id: string } }).object.id;
    const pi = uid('pi');
    const charge = chargeObject({ payment_intent: pi, created: t + 3 });
    const refund = refundObject(charge['id'] as string, { payment_intent: pi, amount: 300, created: t + 60 });
    const creditNote = creditNoteObject(invoiceId, { created: t + 90 });
    const customer = customerObject({ created: t - 86_400 });
    const payment = invoicePaymentObject(invoiceId, { payment: { type: 'payment_intent', payment_intent: pi }, created: t + 1 });
    const carried = [
      inv[4]!,
      event('invoice_payment.paid', payment, { created: t + 3 }),
      event('charge.succeeded', charge, { created: t + 3 }),
      event('charge.refunded', { ...charge, amount_refunded: 300 }, { created: t + 60 }),
      event('charge.refund.updated', { ...refund, status: 'succeeded' }, { created: t + 61 }),
      event('refund.created', refund, { created: t + 60 }),
      event('credit_note.created', creditNote, { created: t + 90 }),
      event('credit_note.voided', { ...creditNote, status: 'void', voided_at: t + 120 }, { created: t + 120 }),
      event('customer.updated', customer, { created: t + 5 }),
      event('customer.deleted', { ...customer, deleted: true }, { created: t + 200 }),
    ];
    const notCarried = [
      upcoming(1)[0]!,
      event('charge.dispute.created', { id: uid('dp'), object: 'dispute', charge: charge['id'] }, { created: t + 100 }),
      event('charge.dispute.closed', { id: uid('dp'), object: 'dispute', charge: charge['id'] }, { created: t + 110 }),
      event('customer.subscription.created', { id: uid('sub'), object: 'subscription', customer: customer['id'] }, { created: t + 6 }),
      event('customer.tax_id.created', { id: uid('txi'), object: 'tax_id', customer: customer['id'] }, { created: t + 7 }),
      event('customer.discount.created', { id: uid('di'), object: 'discount', customer: customer['id'] }, { created: t + 8 }),
      event('payment_intent.succeeded', { id: pi, object: 'payment_intent' }, { created: t + 3 }),
    ];
    api.events.add(...carried, ...notCarried);

    const dry = await backfill({ stripe, ds: db.ds, logger: warnings().logger }, { since: SINCE, dryRun: true });
    expect(api.requests.map((r) => r.query['type'])).toEqual(['invoice.*', 'invoice_payment.*', 'charge.*', 'refund.*', 'credit_note.*', 'customer.*']);
    const idsOf = (events: Array<Record<string, unknown>>) => events.map((e) => e['id'] as string).sort();
    expect(dry.ids.enqueued.map((r) => r.id).sort()).toEqual(idsOf(carried));
    // payment_intent.* is no kind's pattern: never listed, so not even skipped.
    expect(dry.ids.skipped.map((r) => r.id).sort()).toEqual(idsOf(notCarried.filter((e) => e['type'] !== 'payment_intent.succeeded')));
    expect(dry).toMatchObject({ listed: carried.length + notCarried.length - 1, enqueued: carried.length, skipped: notCarried.length - 1, alreadyKnown: 0 });
    expect(new Map(dry.ids.enqueued.map((r) => [r.type, r.objectId]))).toEqual(
      new Map([
        ['invoice.paid', invoiceId],
        ['invoice_payment.paid', payment['id']],
        ['charge.succeeded', charge['id']],
        ['charge.refunded', charge['id']],
        ['charge.refund.updated', refund['id']],
        ['refund.created', refund['id']],
        ['credit_note.created', creditNote['id']],
        ['credit_note.voided', creditNote['id']],
        ['customer.updated', customer['id']],
        ['customer.deleted', customer['id']],
      ]),
    );
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);

    // For real, through the queue the webhook fills, to the consumer and into each kind's table.
    const own = await startTestSqs();
    try {
      const sent = await backfill({ stripe, ds: db.ds, queue: new EventQueue(own.client, own.queueUrl), logger: warnings().logger, backoff: { baseMs: 1 } }, { since: SINCE });
      expect(sent).toMatchObject({ enqueued: carried.length, skipped: notCarried.length - 1 });
      expect(await depth(own.client, own.queueUrl)).toBe(carried.length);
      const processor = await startProcessor({ databaseUrl: db.url, queueUrl: own.queueUrl, dlqUrl: own.dlqUrl, endpoint: own.endpoint, roles: ['worker'] });
      try {
        await waitFor('every backfilled event to be processed', async () => (await processedCount(idsOf(carried))) === carried.length, 60_000);
      } finally {
        await processor.stop();
      }
    } finally {
      await own.stop();
    }
    const one = async (sql: string, id: unknown) => ((await db.ds.query(sql, [id])) as unknown[]).length;
    expect(await one(`SELECT 1 FROM invoice_payments WHERE stripe_payment_intent_id = $1`, pi)).toBe(1);
    expect(await db.ds.query(`SELECT amount_refunded_cents::int AS refunded, stripe_invoice_id FROM charges WHERE stripe_charge_id = $1`, [charge['id']])).toEqual([{ refunded: 300, stripe_invoice_id: invoiceId }]);
    expect(await db.ds.query(`SELECT status, amount_cents::int AS amount FROM refunds WHERE stripe_refund_id = $1`, [refund['id']])).toEqual([{ status: 'succeeded', amount: 300 }]);
    expect(await db.ds.query(`SELECT status FROM credit_notes WHERE stripe_credit_note_id = $1`, [creditNote['id']])).toEqual([{ status: 'void' }]);
    const [{ n: stored }] = await db.ds.query(`SELECT count(*)::int AS n FROM stripe_events WHERE id = ANY($1)`, [idsOf(notCarried)]);
    expect(stored).toBe(0);
  }, 120_000);

  it('lists what it would send on a dry run and sends nothing, without needing a queue', async () => {
    const { invoices, events } = lifecycles(3);
    api.events.add(...events, ...upcoming(1));
    const result = await backfill({ stripe, ds: db.ds, logger: warnings().logger }, { since: SINCE, dryRun: true });
    expect(result).toMatchObject({ dryRun: true, listed: 19, enqueued: 18, alreadyKnown: 0, skipped: 1, until: null });
    expect(result.ids.enqueued.map((r) => r.id).sort()).toEqual(events.map((e) => e['id']).sort());
    expect(new Set(result.ids.enqueued.map((r) => r.objectId))).toEqual(new Set(invoices));
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
    expect(await processedCount(events.map((e) => e['id'] as string))).toBe(0);
  });

  it('honours the created range', async () => {
    const inside = paidLifecycle(uid('in'), NOW - 600);
    const before = paidLifecycle(uid('in'), NOW - 2 * 86_400);
    api.events.add(...inside, ...before);
    const result = await backfill({ stripe, ds: db.ds, logger: warnings().logger }, { since: SINCE, dryRun: true });
    expect(result.ids.enqueued.map((r) => r.id).sort()).toEqual(inside.map((e) => e['id']).sort());
  });

  it('refuses to start when the queue is unreachable, before asking Stripe for anything', async () => {
    const dead = await deadUrl();
    const client = createSqsClient({ region: 'us-east-1', endpoint: dead });
    try {
      const unreachable = new EventQueue(client, `${dead}/000000000000/stripe-billing-events`);
      await expect(backfill({ stripe, ds: db.ds, queue: unreachable, logger: warnings().logger }, { since: SINCE })).rejects.toThrow(QueueUnreachableError);
      expect(api.requests).toHaveLength(0);
    } finally {
      client.destroy();
    }
  });

  it('stops with what it enqueued so far when the queue goes away mid-run', async () => {
    const { events } = lifecycles(30);
    api.events.add(...events);
    const doomed = await startTestSqs();
    let sent = 0;
    const progress = { total: () => undefined, tick: () => void (++sent === 100 && doomed.stop()) };
    const err = await backfill(
      { stripe, ds: db.ds, queue: new EventQueue(doomed.client, doomed.queueUrl), logger: warnings().logger, progress, backoff: { baseMs: 1 } },
      { since: SINCE },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackfillInterruptedError);
    expect((err as BackfillInterruptedError).partial.enqueued).toBe(100);
    expect((err as Error).message).toMatch(/100 enqueued before it.*Running the same backfill again is safe/);
  });

  it('gives up with a clear error when the API cannot be reached', async () => {
    const apiBase = await deadUrl();
    const offline = createStripeClient({ secretKey: KEY, apiBase }, 'backfill');
    const log = warnings();
    const err = await backfill({ stripe: offline, ds: db.ds, logger: log.logger, backoff: { attempts: 2, baseMs: 1 }, apiBase }, { since: SINCE, dryRun: true }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StripeApiError);
    expect((err as Error).message).toMatch(/^GET \/v1\/events failed: cannot reach the Stripe API at http:\/\/127\.0\.0\.1:\d+ \(An error occurred with our connection/);
    expect(log.seen).toHaveLength(1);
  });
});

describe('billing backfill (the built CLI)', () => {
  beforeAll(requireBuild);
  const env = () => ({
    DATABASE_URL: db.url,
    SQS_QUEUE_URL: sqs.queueUrl,
    SQS_DLQ_URL: sqs.dlqUrl,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_REGION: 'us-east-1',
    STRIPE_SECRET_KEY: KEY,
    STRIPE_API_BASE: api.url,
  });

  it('enqueues and reports as JSON', async () => {
    const { events } = lifecycles(2);
    api.events.add(...events, ...upcoming(1));
    const r = await billing(['backfill', '--since', SINCE.toISOString(), '--json'], env());
    expect(r.err).not.toMatch(/billing:|"level"/);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { enqueued: number; skipped: number; ids: { enqueued: { id: string }[] } };
    expect(report).toMatchObject({ listed: 13, enqueued: 12, alreadyKnown: 0, skipped: 1, dryRun: false, since: SINCE.toISOString() });
    expect(report.ids.enqueued.map((e) => e.id).sort()).toEqual(events.map((e) => e['id']).sort());
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(12);
  });

  it('prints a readable dry run, and warns on stderr when --since is past Stripe’s 30 days', async () => {
    const { events } = lifecycles(1);
    api.events.add(...events);
    const since = new Date((NOW - 45 * 86_400) * 1000).toISOString();
    const r = await billing(['backfill', '--since', since, '--dry-run'], env());
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: --since is 45 days ago.*30 days/);
    expect(r.out).toMatch(/would enqueue\s+6/);
    for (const e of events) expect(r.out).toContain(e['id'] as string);
    expect(await depth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it('has --help', async () => {
    const r = await billing(['backfill', '--help'], {});
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--since <iso>/);
    expect(r.out).toMatch(/--dry-run/);
    expect(r.out).toMatch(/STRIPE_SECRET_KEY/);
  });

  it.each([
    [['backfill'], /--since is required/],
    [['backfill', '--since', 'yesterday'], /--since: not an ISO 8601 moment/],
    [['backfill', '--since', '2026-11-01T09:00:00'], /--since: not an ISO 8601 moment/],
    [['backfill', '--since', '2026-11-02', '--until', '2026-11-01'], /--since is after --until/],
    [['backfill', '--since', '2026-11-01', '--frobnicate'], /unknown option '--frobnicate'/],
    [['backfill', '--since'], /argument missing/],
  ])('exits 2 on bad arguments: %j', async (args, message) => {
    const r = await billing(args, env());
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
    expect(api.requests).toHaveLength(0);
  });

  it('exits 2 naming STRIPE_SECRET_KEY when it is not set', async () => {
    const { STRIPE_SECRET_KEY: _unset, ...rest } = env();
    const r = await billing(['backfill', '--since', SINCE.toISOString()], rest);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/backfill needs STRIPE_SECRET_KEY/);
    expect(api.requests).toHaveLength(0);
  });

  it('fails clearly, without the key, when the API is unreachable', async () => {
    const r = await billing(['backfill', '--since', SINCE.toISOString(), '--json'], { ...env(), STRIPE_API_BASE: await deadUrl() });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/billing: GET \/v1\/events failed: cannot reach the Stripe API at http:\/\/127\.0\.0\.1:\d+/);
    expect(r.out).toBe('');
    expect(r.out + r.err).not.toContain(KEY);
  }, 60_000);

  it('fails clearly when the queue is unreachable', async () => {
    const dead = await deadUrl();
    const r = await billing(['backfill', '--since', SINCE.toISOString()], {
      ...env(),
      SQS_QUEUE_URL: `${dead}/000000000000/q`,
      SQS_DLQ_URL: `${dead}/000000000000/q-dlq`,
      AWS_ENDPOINT_URL_SQS: dead,
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/billing: cannot reach the queue http:\/\/127\.0\.0\.1:\d+\/000000000000\/q/);
    expect(api.requests).toHaveLength(0);
  }, 60_000);
});
