import { seededRandom, testSeed } from '../integration/helpers';
import { depth } from '../support/sqs';
import { startBilling, type BillingProcess } from './support/billing-process';
import { auditNotices, dueNotices } from './support/notices';
import { Figures, scaled, secrets, spread } from './support/run';
import { postAtRate, StripePoster } from './support/stripe-poster';
import { startFaultWorld, webhookPort, type FaultWorld } from './support/world';
import { eventLogSummary, lifecycleWorkload, waitProcessed, wrongRows } from './support/workload';
import { sleep, waitFor } from '../support/wait';

const INVOICES = scaled(150, 15);
const MESSAGES = scaled(1500, 150);
const KILLS = scaled(10, 3);
const RATE = 100;

let world: FaultWorld;
const children: BillingProcess[] = [];

beforeAll(async () => {
  world = await startFaultWorld();
});

afterAll(async () => {
  for (const c of children) await c.kill();
  await world?.close();
});

it(`loses and doubles nothing when the webhook process is SIGKILLed ${KILLS} times while Stripe posts`, async () => {
  const figures = new Figures('webhook process SIGKILLed while Stripe posts');
  const seed = testSeed(7_007);
  const random = seededRandom(seed);
  const work = lifecycleWorkload(INVOICES, MESSAGES, 'hook', seed);
  const { ds } = world.db;
  const port = await webhookPort();
  const env = world.env({ PORT: String(port) });
  const worker = await startBilling('worker', env, 'hook-worker');
  children.push(worker, await startBilling('mailer', env, 'hook-mailer'));
  const serves: BillingProcess[] = [await startBilling('serve', env, 'hook-serve-0')];
  children.push(serves[0]!);

  const poster = new StripePoster(() => `http://127.0.0.1:${port}`, secrets().webhook, { backoffMs: 200, maxBackoffMs: 2000 });
  const posting = postAtRate(work.deliveries.map((e) => JSON.stringify(e)), RATE, (p) => poster.deliver(p));
  let finished = false;
  void posting.finally(() => (finished = true)).catch(() => undefined);

  const downtimes: number[] = [];
  const spreadOver = (work.deliveries.length / RATE) * 1000;
  for (let k = 0; k < KILLS && !finished; k++) {
    await sleep((spreadOver / (KILLS + 1)) * (0.5 + random()));
    const killedAt = Date.now();
    await serves[serves.length - 1]!.kill('SIGKILL');
    await sleep(random() * 500);
    const next = await startBilling('serve', env, `hook-serve-${k + 1}`);
    serves.push(next);
    children.push(next);
    downtimes.push(Date.now() - killedAt);
  }
  await posting;
  poster.close();

  const drainMs = await waitProcessed(ds, work.distinctIds, async () => (await depth(world.sqs.client, world.sqs.queueUrl)) === 0);
  await waitFor('the due notices to go out', async () => (await dueNotices(ds)) === 0, 60_000, 250);

  // Counted where they arrive: a SIGKILLed webhook loses the log lines it had not flushed.
  await worker.stop();
  const enqueued = (worker.readLog().match(/"msg":"event processed"/g) ?? []).length;
  const answered = Object.entries(poster.stats.byStatus).filter(([s]) => s.startsWith('2')).reduce((n, [, c]) => n + c, 0);
  const log = await eventLogSummary(ds, work.distinctIds);
  const wrong = await wrongRows(ds, work.invoices);
  const notices = await auditNotices(ds, world.mail);
  const dlq = await depth(world.sqs.client, world.sqs.dlqUrl);
  const kills = serves.length - 1;

  figures.set('seed', seed);
  figures.set('deliveries (Stripe at least once)', work.deliveries.length);
  figures.set('distinct events', work.distinctIds.length);
  figures.set('SIGKILLs of billing serve', kills);
  figures.set('posts, re-posts after no 2xx', `${poster.stats.posts}, ${poster.stats.reposts}`);
  figures.set('answers by status (0 = no answer)', JSON.stringify(poster.stats.byStatus));
  figures.set('enqueued, 2xx answered', `${enqueued}, ${answered}`);
  figures.set('enqueued but never answered (absorbed)', enqueued - answered);
  figures.set('webhook down per kill (kill → serving), median / max', spread(downtimes));
  figures.outcome({ drainMs, processed: log.processed, wrongRows: wrong.length, dlq, delivered: notices.delivered, deliveredTwice: notices.duplicates.size });
  figures.write();

  expect(kills).toBeGreaterThanOrEqual(Math.min(3, KILLS));
  expect(poster.stats.reposts).toBeGreaterThan(0);
  // A 5xx would mean the webhook blamed Stripe for its own restart; only "no answer" is expected.
  expect(Object.keys(poster.stats.byStatus).filter((s) => s !== '0' && s !== '200')).toEqual([]);
  expect(log.failing).toEqual([]);
  expect(log.processed).toBe(work.distinctIds.length);
  expect(wrong.slice(0, 3)).toEqual([]);
  expect(dlq).toBe(0);
  expect([...notices.duplicates]).toEqual([]);
  expect(notices.sentButMissing).toEqual([]);
  expect(notices.deliveredButNotSent).toEqual([]);
});
