// Several mailers on one outbox (two processes, or `npm start` next to `billing mailer`): rows are
// claimed FOR UPDATE SKIP LOCKED and stay locked while the message goes out, so each notice
// reaches the SMTP server exactly once, whoever sends it.
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { start, type Running } from '../../src/run/start';
import { deliverAll, expectedMessageId, finalizedEvent, noticeRows, openInvoice, startNoticeWorld, testMailer, type NoticeWorld } from './harness';
import { waitFor } from '../support/wait';

let world: NoticeWorld;
const pools: DataSource[] = [];

beforeAll(async () => {
  world = await startNoticeWorld();
});

afterAll(async () => {
  for (const ds of pools) if (ds.isInitialized) await ds.destroy();
  await world?.close();
});

beforeEach(() => world.smtp.clear());

/** A connection pool of its own, as a second process would have. */
async function separatePool(): Promise<DataSource> {
  const ds = createDataSource({ url: world.db.url, poolSize: 6, applicationName: 'racing-mailer' });
  await ds.initialize();
  pools.push(ds);
  return ds;
}

async function pendingIssued(n: number) {
  const invoices = Array.from({ length: n }, () => openInvoice());
  await deliverAll(world, invoices.map((i) => finalizedEvent(i)));
  return { ids: invoices.map((i) => i['id'] as string), recipients: invoices.map((i) => i['customer_email'] as string).sort() };
}

/** Each notice sent once: one message per recipient, one per Message-ID, and the rows agree. */
async function expectEachSentOnce(ids: string[], recipients: string[]) {
  const rows = await noticeRows(world.db.ds, ids);
  expect(rows.map((r) => [r.status, r.attempts])).toEqual(Array(ids.length).fill(['sent', 1]));
  const mails = world.smtp.messages;
  expect(mails.map((m) => m.envelopeTo.join(',')).sort()).toEqual(recipients);
  expect(mails.map((m) => m.messageId).sort()).toEqual(rows.map((r) => expectedMessageId(r)).sort());
  expect(world.smtp.rcptAttempts).toHaveLength(ids.length);
}

it('two mailers draining the same outbox at once send each notice exactly once', async () => {
  const { ids, recipients } = await pendingIssued(30);
  world.smtp.latencyMs = 40;
  const a = testMailer(await separatePool(), world.smtp.url, { concurrency: 4 });
  const b = testMailer(await separatePool(), world.smtp.url, { concurrency: 4 });
  try {
    const [byA, byB] = await Promise.all([a.drain(), b.drain()]);
    expect(byA + byB).toBe(30);
    // Both took part, or this was no race.
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  await expectEachSentOnce(ids, recipients);
});

it('two `billing mailer` processes polling through a greylisting spell still send each notice once', async () => {
  const { ids, recipients } = await pendingIssued(12);
  world.smtp.mode = '451';
  world.smtp.latencyMs = 20;
  const env = {
    DATABASE_URL: world.db.url,
    SMTP_URL: world.smtp.url,
    MAIL_FROM: 'Acme Billing <billing@acme.test>',
    MAIL_POLL_INTERVAL_MS: '50',
    MAIL_RETRY_MAX_BACKOFF_SECONDS: '1',
    MAILER_CONCURRENCY: '3',
    DATABASE_POOL_SIZE: '5',
    // Each mailer serves /metrics on a port of its own.
    PORT: '0',
  };
  const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
  const mailers: Running[] = [];
  try {
    mailers.push(await start(['mailer'], env, { quiet: true, logger }));
    mailers.push(await start(['mailer'], env, { quiet: true, logger }));
    await waitFor('every notice refused once', async () => (await noticeRows(world.db.ds, ids)).every((r) => r.attempts >= 1), 15_000);
    world.smtp.mode = 'accept';
    await waitFor('every notice sent', async () => (await noticeRows(world.db.ds, ids)).every((r) => r.status === 'sent'), 20_000);
  } finally {
    for (const m of mailers) await m.stop();
  }
  const rows = await noticeRows(world.db.ds, ids);
  expect(rows.every((r) => r.attempts >= 2)).toBe(true);
  expect(world.smtp.messages.map((m) => m.envelopeTo.join(',')).sort()).toEqual(recipients);
  expect(new Set(world.smtp.messages.map((m) => m.messageId)).size).toBe(12);
  expect(world.smtp.messages.map((m) => m.messageId).sort()).toEqual(rows.map((r) => expectedMessageId(r)).sort());
  expect(world.smtp.messages.every((m) => m.header('from') === 'Acme Billing <billing@acme.test>')).toBe(true);
});
