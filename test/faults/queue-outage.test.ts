import { depth } from '../support/sqs';
import { between, startBilling, type BillingProcess } from './support/billing-process';
import { Figures, scaled, secrets, spread } from './support/run';
import { postAtRate, StripePoster } from './support/stripe-poster';
import { startFaultWorld, webhookPort, type FaultWorld } from './support/world';
import { eventLogSummary, lifecycleWorkload, waitProcessed, wrongRows } from './support/workload';
import { jsonLines } from '../support/log-lines';
import { sleep } from '../support/wait';

const OUTAGE_MS = scaled(30_000, 5_000);
const BEFORE_MS = scaled(8_000, 3_000);
const AFTER_MS = scaled(8_000, 3_000);
const RATE = 40;
// The SDK's own retries (3 attempts) can straddle the cut; answers after this are all from the outage.
const GRACE_MS = 1_500;

let world: FaultWorld;
const children: BillingProcess[] = [];

beforeAll(async () => {
  world = await startFaultWorld({ maxReceiveCount: 5, visibilityTimeoutSeconds: 5 });
});

afterAll(async () => {
  await world?.sqsProxy.restore();
  for (const c of children) await c.kill();
  await world?.close();
});

it('answers 503 while the queue is down, and every event Stripe re-posts afterwards lands exactly once', async () => {
  const figures = new Figures('queue outage of 30 s at ingest');
  const count = Math.round(((BEFORE_MS + OUTAGE_MS + AFTER_MS) / 1000) * RATE);
  // Every event also delivered twice by Stripe itself, on top of the re-posts the outage causes.
  const work = lifecycleWorkload(Math.ceil(count / 14), count, 'qdown', 41);
  const port = await webhookPort();
  const env = world.env({ PORT: String(port) });
  const serve = await startBilling('serve', env, 'qdown-serve');
  const worker = await startBilling('worker', env, 'qdown-worker');
  children.push(serve, worker);

  const poster = new StripePoster(() => `http://127.0.0.1:${port}`, secrets().webhook, { backoffMs: 500, maxBackoffMs: 4_000 });
  const posting = postAtRate(work.deliveries.map((e) => JSON.stringify(e)), RATE, (p) => poster.deliver(p));
  await sleep(BEFORE_MS);
  await world.sqsProxy.refuse();
  const downAt = Date.now();
  await sleep(OUTAGE_MS);
  await world.sqsProxy.restore();
  const upAt = Date.now();
  await posting;
  poster.close();
  const lastPostAt = Date.now();
  const drainMs = await waitProcessed(world.db.ds, work.distinctIds, async () => (await depth(world.sqs.client, world.sqs.queueUrl)) === 0);
  await worker.stop();
  await serve.stop();

  const inOutage = poster.stats.answers.filter((a) => a.at >= downAt + GRACE_MS && a.at + a.ms <= upAt);
  const straddling = poster.stats.answers.filter((a) => a.at < upAt && a.at + a.ms > downAt && !inOutage.includes(a));
  const processedLines = jsonLines(worker.readLog()).filter((l) => l['msg'] === 'event processed');
  const workerErrors = between(jsonLines(worker.readLog()), downAt, upAt).filter((l) => Number(l['level']) >= 50);
  const failedReceives = jsonLines(worker.readLog()).filter((l) => l['msg'] === 'event failed; left on the queue');
  // Each copy of an event is received and counted; exactly one of them applies it, the rest are duplicates.
  const applied = new Map<string, number>();
  for (const l of processedLines) if (l['outcome'] !== 'duplicate') applied.set(String(l['eventId']), (applied.get(String(l['eventId'])) ?? 0) + 1);
  const notAppliedOnce = work.distinctIds.filter((id) => applied.get(id) !== 1);
  const ok = poster.stats.byStatus['200'] ?? 0;
  const log = await eventLogSummary(world.db.ds, work.distinctIds);
  const wrong = await wrongRows(world.db.ds, work.invoices);
  const dlq = await depth(world.sqs.client, world.sqs.dlqUrl);

  figures.set('outage (connections refused)', `${((upAt - downAt) / 1000).toFixed(1)} s`);
  figures.set('deliveries, distinct events', `${work.deliveries.length}, ${work.distinctIds.length}`);
  figures.set('answers during the outage', JSON.stringify(counts(inOutage)));
  figures.set('503 latency during the outage, median / max', spread(inOutage.map((a) => a.ms)));
  figures.set('answers straddling the cut or the restore', JSON.stringify(counts(straddling)));
  figures.set('posts, re-posts after no 2xx', `${poster.stats.posts}, ${poster.stats.reposts}`);
  figures.set('all answers', JSON.stringify(poster.stats.byStatus));
  figures.set('worker error lines during the outage', workerErrors.length);
  figures.set('messages the worker handled, 2xx answers', `${processedLines.length}, ${ok}`);
  figures.set('drain after the last post', `${(drainMs / 1000).toFixed(1)} s (last post ${((lastPostAt - upAt) / 1000).toFixed(1)} s after the restore)`);
  figures.set('events processed, applied other than once', `${log.processed}, ${notAppliedOnce.length}`);
  figures.set('failed receives', failedReceives.length);
  figures.set('rows differing from the chronological merge', wrong.length);
  figures.set('messages in the DLQ', dlq);
  figures.write();

  expect(inOutage.length).toBeGreaterThan(0);
  expect(counts(inOutage)).toEqual({ 503: inOutage.length });
  expect(Object.keys(poster.stats.byStatus).sort()).toEqual(['200', '503']);
  expect(log.failing).toEqual([]);
  expect(log.processed).toBe(work.distinctIds.length);
  expect(failedReceives.map((l) => l['err'])).toEqual([]);
  expect(notAppliedOnce.slice(0, 5)).toEqual([]);
  expect(wrong.slice(0, 3)).toEqual([]);
  expect(dlq).toBe(0);
});

function counts(answers: ReadonlyArray<{ status: number }>): Record<number, number> {
  const out: Record<number, number> = {};
  for (const a of answers) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}
