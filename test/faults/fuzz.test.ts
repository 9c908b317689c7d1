import http from 'node:http';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { mapLimit, seededRandom, testSeed } from '../integration/helpers';
import { receiveBodies } from '../support/sqs';
import { startStripeApi, type StripeApi } from '../support/stripe-api/server';
import { invoice, sign } from '../support/stripe-events';
import { startBilling, type BillingProcess } from './support/billing-process';
import { generate, type FuzzCase } from './support/fuzz-cases';
import { Figures, scaled, secrets } from './support/run';
import { postRaw, type PostResult } from './support/stripe-poster';
import { startFaultWorld, webhookPort, type FaultWorld } from './support/world';
import { waitFor } from '../support/wait';

const REQUESTS = scaled(10_000, 500);
// The share of the run during which the queue is refused, so that 503 is exercised too.
const OUTAGE = { from: 0.45, to: 0.5 };
const GRACE_MS = 1_500;

let world: FaultWorld;
let api: StripeApi;
const children: BillingProcess[] = [];

beforeAll(async () => {
  world = await startFaultWorld({ maxReceiveCount: 3, visibilityTimeoutSeconds: 2 });
  api = await startStripeApi();
});

afterAll(async () => {
  await world?.sqsProxy.restore();
  for (const c of children) await c.kill();
  await api?.stop();
  await world?.close();
});

interface Sent {
  c: FuzzCase;
  r: PostResult;
}

it(`survives ${REQUESTS} generated requests: never a 5xx but 503, no row from unverified input, malformed invoices end visibly, unusable events of handled types are stored with their reason, ignored types leave nothing`, async () => {
  const figures = new Figures('fuzz: generated webhook requests');
  const seed = testSeed(10_000);
  const random = seededRandom(seed);
  let serial = 0;
  const thinIds = Array.from({ length: 20 }, (_, i) => `in_fuzz_thin_${i}`);
  api.invoices.put(...thinIds.map((id) => invoice({ id, status: 'open', due_date: null, customer_email: 'thin@customer.test' })));
  const port = await webhookPort();
  const env = world.env({ PORT: String(port), STRIPE_API_BASE: api.url, SQS_MAX_RECEIVE_COUNT: '3' });
  const serve = await startBilling('serve', env, 'fuzz-serve');
  const worker = await startBilling('worker', env, 'fuzz-worker');
  const mailer = await startBilling('mailer', env, 'fuzz-mailer');
  children.push(serve, worker, mailer);
  const rssAtStart = serve.rssMiB();

  const ctx = { secret: secrets().webhook, random, serial: () => ++serial, knownThinInvoices: thinIds };
  const cases = Array.from({ length: REQUESTS }, () => generate(ctx));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  let downAt = Infinity;
  let upAt = Infinity;
  const started = Date.now();
  const sent: Sent[] = await mapLimit(cases, 16, async (c, i) => {
    if (i === Math.floor(REQUESTS * OUTAGE.from) && downAt === Infinity) {
      downAt = Date.now();
      await world.sqsProxy.refuse();
    }
    if (i === Math.floor(REQUESTS * OUTAGE.to) && upAt === Infinity) {
      await world.sqsProxy.restore();
      upAt = Date.now();
    }
    // Oversized bodies are sent whole; the rest reuse connections as Stripe's senders do.
    return { c, r: await postRaw(`http://127.0.0.1:${port}`, c.body, c.headers, agent) };
  });
  agent.destroy();
  const postedMs = Date.now() - started;

  // The consumer must still be working: a good event after everything else.
  const sentinel = JSON.stringify({ id: `evt_fuzz_sentinel_${seed}`, object: 'event', type: 'invoice.finalized', created: Math.floor(Date.now() / 1000), livemode: false, data: { object: invoice({ id: 'in_fuzz_sentinel', status: 'open', due_date: null }) } });
  expect((await postRaw(`http://127.0.0.1:${port}`, sentinel, { 'stripe-signature': sign(sentinel, secrets().webhook) })).status).toBe(200);
  await waitFor('the sentinel', async () => (await world.db.ds.query(`SELECT 1 FROM stripe_events WHERE id = $1 AND processed_at IS NOT NULL`, [`evt_fuzz_sentinel_${seed}`])).length === 1, 60_000, 200);
  const drainStarted = Date.now();
  // In flight too: an unusable event's message is received again until it moves to the DLQ.
  await waitFor('the queue to drain', async () => (await messagesLeft(world)) === 0, 180_000, 500);
  const drainMs = Date.now() - drainStarted;

  const byStatus: Record<string, number> = {};
  for (const { r } of sent) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const bad5xx = sent.filter(({ r }) => r.status >= 500 && !(r.status === 503 && r.at + r.ms >= downAt && r.at <= upAt + GRACE_MS));
  const noAnswer = sent.filter(({ r }) => r.status === 0);
  const unverified2xx = sent.filter(({ c, r }) => c.fate === 'rejected' && r.status >= 200 && r.status < 300);
  const in503 = new Set(sent.filter(({ r }) => r.status === 503).map(({ c }) => c));

  const stored: Array<{ id: string; processed: boolean; last_error: string | null; stripe_invoice_id: string | null }> = await world.db.ds.query(
    `SELECT id, processed_at IS NOT NULL AS processed, last_error, stripe_invoice_id FROM stripe_events`,
  );
  const storedById = new Map(stored.map((s) => [s.id, s]));
  const signedIds = new Set(cases.filter((c) => c.fate !== 'rejected' && c.eventId).map((c) => c.eventId!));
  signedIds.add(`evt_fuzz_sentinel_${seed}`);
  const strangers = stored.filter((s) => !signedIds.has(s.id));
  const [{ n: unverifiedRows }] = await world.db.ds.query(
    `SELECT ((SELECT count(*) FROM stripe_events WHERE id LIKE '%unverified%' OR payload::text LIKE '%unverified%')
          + (SELECT count(*) FROM invoices WHERE stripe_invoice_id LIKE '%unverified%'))::int AS n`,
  );
  const dlqBodies = await drainDlq(world);
  const inDlq = (id: string) => dlqBodies.some((b) => b.includes(JSON.stringify(id).slice(1, -1)));

  const good = cases.filter((c) => c.fate === 'good' && !in503.has(c));
  const lostGood = good.filter((c) => !storedById.get(c.eventId!)?.processed);
  const malformed = cases.filter((c) => c.fate === 'malformed' && !in503.has(c));
  const malformedFates = malformed.map((c): string => {
    const row = storedById.get(c.eventId!);
    if (row?.processed) return 'processed';
    if (row?.last_error) return inDlq(c.eventId!) ? 'DLQ + last_error' : 'last_error';
    return inDlq(c.eventId!) ? 'DLQ only' : 'nowhere';
  });
  const ignoredRows = cases.filter((c) => c.fate === 'ignored' && c.eventId && storedById.has(c.eventId));
  // Ingest ignores by type alone, before the queue: also while the queue is refused.
  const notAnsweredIgnored = sent.filter(({ c, r }) => c.fate === 'ignored' && !(r.status === 200 && r.ignored));
  const wronglyIgnored = sent.filter(({ c, r }) => c.fate !== 'ignored' && r.ignored);
  const unusable = cases.filter((c) => c.fate === 'unusable' && !in503.has(c));
  const unusableMisses = unusable.flatMap((c): string[] => {
    const row = storedById.get(c.eventId!);
    if (!row) return [`${c.family}: ${c.eventId} not stored`];
    if (row.processed) return [`${c.family}: ${c.eventId} processed`];
    if (!row.last_error || !c.reason!.test(row.last_error)) return [`${c.family}: ${c.eventId}: last_error ${String(row.last_error).slice(0, 200)}, expected ${String(c.reason)}`];
    return [];
  });
  const roundTrips = await roundTripFailures(world, good);
  const dlqOnly = malformed.filter((_, i) => malformedFates[i] === 'DLQ only').map((c) => c.family);
  // RFC 5322 msg-id: dot-atom text on both sides of one @.
  const badMessageIds = world.mail.messages.map((m) => m.messageId).filter((id) => !/^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+>$/.test(id));
  const headerInjected = world.mail.messages.filter((m) => m.headerLines.some((h) => /^(bcc|x-injected):/i.test(h)) || m.envelopeTo.some((t) => /evil\.test/.test(t)));

  figures.set('seed', seed);
  figures.set('requests', REQUESTS);
  figures.set('families', JSON.stringify(countBy(cases.map((c) => c.family))).slice(0, 2000));
  figures.set('answers by status (0 = no answer, -1 = refused by the client)', JSON.stringify(byStatus));
  figures.set('posting time, rate', `${(postedMs / 1000).toFixed(1)} s, ${Math.round(REQUESTS / (postedMs / 1000))} req/s`);
  figures.set('queue refused during', `${((upAt - downAt) / 1000).toFixed(1)} s (${in503.size} answered 503)`);
  figures.set('5xx other than 503 in the outage', bad5xx.length);
  figures.set('unverified requests answered 2xx', unverified2xx.length);
  figures.set('rows touched by unverified input', unverifiedRows);
  figures.set('stored events not from a signed request', strangers.length);
  figures.set('verified good events processed', `${good.length - lostGood.length} / ${good.length}`);
  figures.set('verified malformed events: where they ended', JSON.stringify(countBy(malformedFates)));
  figures.set('…of which only in the DLQ, by family', JSON.stringify(countBy(dlqOnly)));
  figures.set('verified unusable events stored with their reason', `${unusable.length - unusableMisses.length} / ${unusable.length}`);
  figures.set('ignored events stored', ignoredRows.length);
  figures.set('ignored events not answered "ignored", others answered "ignored"', `${notAnsweredIgnored.length}, ${wronglyIgnored.length}`);
  figures.set('emails with a malformed Message-ID', badMessageIds.length);
  figures.set('odd strings not stored exactly', roundTrips.length);
  figures.set('emails sent, with injected headers', `${world.mail.messages.length}, ${headerInjected.length}`);
  figures.set('drain after the sentinel', `${(drainMs / 1000).toFixed(1)} s`);
  figures.set('billing serve RSS start / end', `${rssAtStart.toFixed(0)} / ${serve.rssMiB().toFixed(0)} MiB`);
  figures.set('processes alive at the end (serve, worker, mailer)', [serve, worker, mailer].map((p) => p.alive()).join(', '));
  figures.write();

  expect(bad5xx.map(({ c, r }) => `${c.family}: ${r.status}`)).toEqual([]);
  expect(noAnswer.map(({ c }) => c.family)).toEqual([]);
  expect(unverified2xx.map(({ c }) => c.family)).toEqual([]);
  expect(unverifiedRows).toBe(0);
  expect(strangers.map((s) => s.id)).toEqual([]);
  expect(lostGood.map((c) => `${c.family}: ${c.eventId}`)).toEqual([]);
  expect(malformedFates.filter((f) => f === 'processed' || f === 'nowhere')).toEqual([]);
  expect(unusableMisses).toEqual([]);
  expect(ignoredRows.map((c) => `${c.family}: ${c.eventId}`)).toEqual([]);
  expect(notAnsweredIgnored.map(({ c, r }) => `${c.family}: ${r.status}`)).toEqual([]);
  expect(wronglyIgnored.map(({ c }) => `${c.family}: ${c.eventId}`)).toEqual([]);
  expect(roundTrips).toEqual([]);
  expect(headerInjected.map((m) => m.headerLines)).toEqual([]);
  expect(badMessageIds).toEqual([]);
  expect([serve, worker, mailer].map((p) => p.alive())).toEqual([true, true, true]);
  expect(in503.size).toBeGreaterThan(0);
});

function countBy(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i] = (out[i] ?? 0) + 1;
  return out;
}

/** Messages still to be handled: visible, or received and not yet deleted or moved to the DLQ. */
async function messagesLeft(w: FaultWorld): Promise<number> {
  const res = await w.sqs.client.send(
    new GetQueueAttributesCommand({ QueueUrl: w.sqs.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  const a = res.Attributes ?? {};
  return Number(a['ApproximateNumberOfMessages'] ?? 0) + Number(a['ApproximateNumberOfMessagesNotVisible'] ?? 0);
}

async function drainDlq(w: FaultWorld): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const batch = await receiveBodies(w.sqs.client, w.sqs.dlqUrl);
    if (batch.length === 0) return bodies;
    bodies.push(...batch);
  }
}

async function roundTripFailures(w: FaultWorld, good: readonly FuzzCase[]): Promise<unknown[]> {
  const failures: unknown[] = [];
  for (const c of good) {
    if (!c.roundTrip) continue;
    const [row] = await w.db.ds.query(`SELECT ${c.roundTrip.column} AS v FROM invoices WHERE stripe_invoice_id = $1`, [c.invoiceId]);
    if (row?.v !== c.roundTrip.value) failures.push({ invoice: c.invoiceId, column: c.roundTrip.column, sent: c.roundTrip.value.slice(0, 80), stored: String(row?.v).slice(0, 80) });
  }
  return failures;
}
