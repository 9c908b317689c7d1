import { eventId, mapLimit, seededRandom, testSeed } from '../integration/helpers';
import { depth, sendRaw } from '../support/sqs';
import { startBilling, type BillingProcess } from './support/billing-process';
import { auditNotices, pendingNotices } from './support/notices';
import { Figures, scaled, spread } from './support/run';
import { startFaultWorld, type FaultWorld } from './support/world';
import { eventLogSummary, lifecycleWorkload, processedTotal, wrongRows } from './support/workload';
import { sleep, waitFor } from '../support/wait';

const INVOICES = scaled(500, 20);
const MESSAGES = scaled(5000, 200);
const KILLS = scaled(20, 3);

let world: FaultWorld;
let mailer: BillingProcess | undefined;
let worker: BillingProcess | undefined;

beforeAll(async () => {
  world = await startFaultWorld({ maxReceiveCount: 5, visibilityTimeoutSeconds: 5 });
});

afterAll(async () => {
  await worker?.kill();
  await mailer?.stop();
  await world?.close();
});

it(`loses and doubles nothing while the worker is SIGKILLed ${KILLS} times`, async () => {
  const figures = new Figures('crashes: worker SIGKILLed mid-run');
  const seed = testSeed(5_000);
  const random = seededRandom(seed);
  const work = lifecycleWorkload(INVOICES, MESSAGES, 'crash', seed);
  const { ds } = world.db;
  const env = world.env({ WORKER_POLLERS: '2' });

  mailer = await startBilling('mailer', env, 'crash-mailer');
  // The backlog arrives in as many slices as there are kills, so every kill lands while the
  // worker has messages in hand rather than after it drained everything.
  const slices = KILLS + 1;
  const perSlice = Math.ceil(work.deliveries.length / slices);
  const feed = (i: number) =>
    mapLimit(work.deliveries.slice(i * perSlice, (i + 1) * perSlice), 16, (e) => sendRaw(world.sqs.client, world.sqs.queueUrl, JSON.stringify(e)));

  const started = Date.now();
  const recoveries: number[] = [];
  const lifetimes: number[] = [];
  const processedAtKill: number[] = [];
  const workers: BillingProcess[] = [];
  for (let k = 0; k < KILLS; k++) {
    await feed(k);
    const spawnedAt = Date.now();
    const before = await processedTotal(ds);
    worker = await startBilling('worker', env, `crash-worker-${k}`);
    workers.push(worker);
    // Recovered: the new process has committed an event of its own.
    await waitFor(`worker ${k} to commit (seed ${seed})`, async () => (await processedTotal(ds)) > before, 60_000, 25);
    recoveries.push(Date.now() - spawnedAt);
    await sleep(random() * 1500);
    processedAtKill.push(await processedTotal(ds));
    await worker.kill('SIGKILL');
    lifetimes.push(Date.now() - spawnedAt);
  }
  await feed(KILLS);
  const lastStart = Date.now();
  worker = await startBilling('worker', env, 'crash-worker-final');
  workers.push(worker);

  await waitFor(`every event processed (seed ${seed})`, async () => (await processedTotal(ds)) === work.distinctIds.length, 240_000, 250);
  await waitFor('the queue to drain', async () => (await depth(world.sqs.client, world.sqs.queueUrl)) === 0, 120_000, 250);
  const drainedAt = Date.now();
  await waitFor('the outbox to settle', async () => (await pendingNotices(ds)) === 0, 150_000, 250);
  const settledAt = Date.now();
  await worker.stop();

  const log = await eventLogSummary(ds, work.distinctIds);
  const wrong = await wrongRows(ds, work.invoices);
  const notices = await auditNotices(ds, world.mail);
  const dlq = await depth(world.sqs.client, world.sqs.dlqUrl);
  const duplicatesAbsorbed = workers.reduce((n, w) => n + (w.readLog().match(/"outcome":"duplicate"/g) ?? []).length, 0);

  figures.set('seed', seed);
  figures.set('messages queued', work.deliveries.length);
  figures.set('distinct events', work.distinctIds.length);
  figures.set('invoices', work.invoices.length);
  figures.set('SIGKILLs of the worker', KILLS);
  figures.set('events committed at each kill (first / last)', `${processedAtKill[0]} / ${processedAtKill[processedAtKill.length - 1]}`);
  figures.set('worker lifetime between kills, median / max', spread(lifetimes));
  figures.set('time to recover (spawn → first commit), median / max', spread(recoveries));
  figures.set('final worker: drain after last restart', `${((drainedAt - lastStart) / 1000).toFixed(1)} s`);
  figures.set('whole run', `${((drainedAt - started) / 1000).toFixed(1)} s`);
  figures.set('outbox settled after the drain', `${((settledAt - drainedAt) / 1000).toFixed(1)} s`);
  figures.set('events processed', log.processed);
  figures.set('events received more than once (copies, redeliveries, failures)', log.receivedMoreThanOnce);
  figures.set('redeliveries recognised as duplicates', duplicatesAbsorbed);
  figures.set('rows differing from the chronological merge', wrong.length);
  figures.set('messages in the DLQ', dlq);
  figures.set('notices by status', JSON.stringify(notices.byStatus));
  figures.set('emails delivered', notices.delivered);
  figures.set('emails delivered twice', notices.duplicates.size);
  figures.write();

  expect({ seed, failing: log.failing.slice(0, 5) }).toEqual({ seed, failing: [] });
  expect(log.processed).toBe(work.distinctIds.length);
  expect({ seed, wrong: wrong.slice(0, 3) }).toEqual({ seed, wrong: [] });
  expect(dlq).toBe(0);
  expect([...notices.duplicates]).toEqual([]);
  expect(notices.sentButMissing).toEqual([]);
  expect(notices.deliveredButNotSent).toEqual([]);
  expect(notices.delivered).toBeGreaterThan(0);
  expect(new Set(work.distinctIds)).toEqual(new Set(work.deliveries.map(eventId)));
});
