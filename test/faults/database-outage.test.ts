import { billingAsync } from '../support/cli';
import { depth } from '../support/sqs';
import { between, startBilling, type BillingProcess } from './support/billing-process';
import { auditNotices, dueNotices } from './support/notices';
import { Figures, keepLog, scaled, secrets, spread } from './support/run';
import { postAtRate, StripePoster } from './support/stripe-poster';
import { startFaultWorld, webhookPort, type FaultWorld } from './support/world';
import { eventLogSummary, lifecycleWorkload, processedTotal, waitProcessed, wrongRows } from './support/workload';
import { jsonLines } from '../support/log-lines';
import { sleep, waitFor } from '../support/wait';

const OUTAGE_MS = scaled(30_000, 5_000);
const RATE = 40;
const BEFORE_MS = scaled(8_000, 3_000);
const AFTER_MS = scaled(8_000, 3_000);
const SLOW_MS = scaled(6_000, 2_000);

let world: FaultWorld;
let dev: BillingProcess | undefined;

beforeAll(async () => {
  // A visibility timeout of 2 s and 5 receives: a worker that kept receiving through a 30 s
  // outage would push every queued event into the DLQ ten seconds in.
  world = await startFaultWorld({ maxReceiveCount: 5, visibilityTimeoutSeconds: 2 });
});

afterAll(async () => {
  await world?.dbProxy.restore();
  await dev?.kill();
  await world?.close();
});

it('keeps answering 200 through a 30 s database outage and lands every event once afterwards, none in the DLQ', async () => {
  const figures = new Figures('database outage of 30 s');
  const totalMs = BEFORE_MS + SLOW_MS + OUTAGE_MS + AFTER_MS;
  const count = Math.round((totalMs / 1000) * RATE);
  // Distinct events only, mostly distinct invoices, so the rate of new work stays steady.
  const work = lifecycleWorkload(Math.ceil(count / 7), count, 'dbdown', 31);
  const port = await webhookPort();
  const env = world.env({ PORT: String(port) });
  dev = await startBilling('dev', env, 'dbdown-dev');

  const poster = new StripePoster(() => `http://127.0.0.1:${port}`, secrets().webhook);
  const started = Date.now();
  const posting = postAtRate(work.deliveries.map((e) => JSON.stringify(e)), RATE, (p) => poster.deliver(p));

  // A slow database first: every packet to and from PostgreSQL 150 ms late.
  await sleep(BEFORE_MS);
  world.dbProxy.delay(150);
  await sleep(SLOW_MS);
  await world.dbProxy.restore();

  await world.dbProxy.refuse();
  const downAt = Date.now();
  const processedAtCut = await processedTotal(world.db.ds);
  // A worker started now cannot reach the database: it must say so and exit, not hang or leak the URL.
  const lateStart = await billingAsync(['worker'], env);
  keepLog('dbdown-late-worker', lateStart.out + lateStart.err);
  await sleep(OUTAGE_MS - (Date.now() - downAt));
  const processedDuringOutage = (await processedTotal(world.db.ds)) - processedAtCut;
  await world.dbProxy.restore();
  const upAt = Date.now();

  await posting;
  poster.close();
  const idsPostedBeforeRestore = work.deliveries.filter((_, i) => started + (i * 1000) / RATE < upAt).length;
  const drainMs = await waitProcessed(world.db.ds, work.distinctIds, async () => (await depth(world.sqs.client, world.sqs.queueUrl)) === 0);
  const landedAt = Date.now();
  await waitFor('the due notices to go out', async () => (await dueNotices(world.db.ds)) === 0, 60_000, 250);
  await dev.stop();

  const lines = jsonLines(dev.readLog());
  const duringOutage = between(lines, downAt, upAt);
  const failed = lines.filter((l) => l['msg'] === 'event failed; left on the queue');
  const maxReceive = Math.max(0, ...failed.map((l) => Number(l['receiveCount'] ?? 0)));
  const answersDown = poster.stats.answers.filter((a) => a.at >= downAt && a.at + a.ms <= upAt);
  const log = await eventLogSummary(world.db.ds, work.distinctIds);
  const wrong = await wrongRows(world.db.ds, work.invoices);
  const notices = await auditNotices(world.db.ds, world.mail);
  const dlq = await depth(world.sqs.client, world.sqs.dlqUrl);

  figures.set('outage (connections refused)', `${((upAt - downAt) / 1000).toFixed(1)} s`);
  figures.set('slow phase before it (150 ms per packet)', `${SLOW_MS / 1000} s`);
  figures.set('events posted, distinct', `${work.deliveries.length}, ${work.distinctIds.length}`);
  figures.set('webhook answers during the outage', JSON.stringify(statusCounts(answersDown)));
  figures.set('webhook latency during the outage, median / max', spread(answersDown.map((a) => a.ms)));
  figures.set('events committed during the outage', processedDuringOutage);
  figures.set('failed attempts (receives spent), max receive count', `${failed.length}, ${maxReceive}`);
  figures.set('log lines during the outage (warn/error)', `${duringOutage.length} (${duringOutage.filter((l) => Number(l['level']) >= 40).length})`);
  figures.set('worker started during the outage', `exit ${lateStart.code}: ${lateStart.err.trim().split('\n')[0]}`);
  figures.set('time to land everything after the restore', `${((landedAt - upAt) / 1000).toFixed(1)} s`);
  figures.set('events posted before the restore', idsPostedBeforeRestore);
  figures.outcome({ drainMs, processed: log.processed, wrongRows: wrong.length, dlq, delivered: notices.delivered, deliveredTwice: notices.duplicates.size });
  figures.write();

  expect(answersDown.length).toBeGreaterThan(0);
  expect(statusCounts(answersDown)).toEqual({ 200: answersDown.length });
  expect(Object.keys(poster.stats.byStatus)).toEqual(['200']);
  expect(processedDuringOutage).toBe(0);
  expect(lateStart.code).toBe(2);
  expect(lateStart.err).toMatch(/cannot connect to the database/);
  expect(dlq).toBe(0);
  expect(log.failing).toEqual([]);
  expect(log.processed).toBe(work.distinctIds.length);
  expect(wrong.slice(0, 3)).toEqual([]);
  expect([...notices.duplicates]).toEqual([]);
  expect(notices.sentButMissing).toEqual([]);
  // Waiting out the outage, not receiving through it: a handful of messages caught mid-flight
  // at the cut may fail once, nothing comes close to the redrive limit.
  expect(maxReceive).toBeLessThan(5);
});

function statusCounts(answers: ReadonlyArray<{ status: number }>): Record<number, number> {
  const out: Record<number, number> = {};
  for (const a of answers) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}
