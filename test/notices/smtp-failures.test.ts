// The mail server misbehaving: a 451 (greylisting) keeps notices pending and retried with backoff
// until it accepts, then each goes out exactly once with the Message-ID it had from the start; a
// 550 marks the notice failed with the server's reply; a refused connection is retried.
import { freePort } from '../../src/embedded/embedded-postgres';
import { billing } from '../support/cli';
import {
  deliverAll,
  drainOnce,
  expectedMessageId,
  finalizedEvent,
  noticeRows,
  openInvoice,
  startNoticeWorld,
  testMailer,
  wallNow,
  type NoticeWorld,
} from './harness';
import { waitFor } from '../support/wait';

let world: NoticeWorld;

beforeAll(async () => {
  world = await startNoticeWorld();
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => {
  world.smtp.clear();
  world.smtp.mode = 'accept';
});

/** n open invoices, each with its invoice_issued pending in the outbox and its own recipient. */
async function pendingIssued(n: number) {
  const invoices = Array.from({ length: n }, () => openInvoice());
  await deliverAll(world, invoices.map((i) => finalizedEvent(i)));
  return { ids: invoices.map((i) => i['id'] as string), recipients: invoices.map((i) => i['customer_email'] as string) };
}

const rowsOf = (ids: string[]) => noticeRows(world.db.ds, ids);

it('451 for a while: notices stay pending with backoff, then each is delivered once, with the Message-ID it had from the start', async () => {
  const { ids, recipients } = await pendingIssued(4);
  let now = wallNow();
  const mailer = testMailer(world.db.ds, world.smtp.url, { now: () => now });
  try {
    world.smtp.mode = '451';
    expect(await mailer.drain()).toBe(4);
    let rows = await rowsOf(ids);
    for (const r of rows) {
      expect(r).toMatchObject({ status: 'pending', attempts: 1, next_attempt_at: now + 1, message_id: expectedMessageId(r) });
      expect(r.last_error).toMatch(/^451 4\.7\.1 greylisted, try again later/);
    }
    const firstIds = rows.map((r) => r.message_id);
    expect(await mailer.drain()).toBe(0); // not due again yet

    now += 1;
    expect(await mailer.drain()).toBe(4);
    now += 2;
    expect(await mailer.drain()).toBe(4);
    rows = await rowsOf(ids);
    expect(rows.map((r) => [r.status, r.attempts, r.next_attempt_at - now])).toEqual(Array(4).fill(['pending', 3, 4]));
    expect(world.smtp.messages).toEqual([]);

    world.smtp.mode = 'accept';
    now += 3;
    expect(await mailer.drain()).toBe(0); // backoff is respected even once the server would accept
    now += 1;
    expect(await mailer.drain()).toBe(4);

    rows = await rowsOf(ids);
    expect(rows.map((r) => [r.status, r.attempts, r.last_error])).toEqual(Array(4).fill(['sent', 4, null]));
    expect(rows.map((r) => r.message_id)).toEqual(firstIds);
    expect(world.smtp.messages).toHaveLength(4);
    expect(world.smtp.messages.map((m) => m.envelopeTo[0]).sort()).toEqual([...recipients].sort());
    expect(world.smtp.messages.map((m) => m.messageId).sort()).toEqual([...firstIds].sort());
    expect(world.smtp.rcptAttempts).toHaveLength(3 * 4 + 4);

    now += 86_400;
    expect(await mailer.drain()).toBe(0);
    expect(world.smtp.messages).toHaveLength(4);
  } finally {
    await mailer.stop();
  }
});

it('backs off exponentially from 1 s, capped at the maximum, and gives up after the last attempt', async () => {
  const { ids } = await pendingIssued(1);
  world.smtp.mode = '451';
  let now = wallNow();
  const mailer = testMailer(world.db.ds, world.smtp.url, { now: () => now, maxBackoffSeconds: 4, maxAttempts: 6 });
  const delays: number[] = [];
  try {
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(await mailer.drain()).toBe(1);
      const [row] = await rowsOf(ids);
      expect(row).toMatchObject({ status: 'pending', attempts: attempt });
      delays.push(row!.next_attempt_at - now);
      now = row!.next_attempt_at;
    }
    expect(delays).toEqual([1, 2, 4, 4, 4]);
    expect(await mailer.drain()).toBe(1);
    const [row] = await rowsOf(ids);
    expect(row).toMatchObject({ status: 'failed', attempts: 6 });
    expect(row!.last_error).toMatch(/^451 /);
    now += 3600;
    expect(await mailer.drain()).toBe(0);
    expect(world.smtp.messages).toEqual([]);
    expect(world.smtp.rcptAttempts).toHaveLength(6);
  } finally {
    await mailer.stop();
  }
});

it('a 550 marks the notice failed at once with the server reply; `notices retry --failed` sends it once the server accepts', async () => {
  const { ids, recipients } = await pendingIssued(2);
  world.smtp.mode = '550';
  let now = wallNow();
  expect(await drainOnce(world.db.ds, world.smtp.url, { now: () => now })).toBe(2);
  let rows = await rowsOf(ids);
  for (const r of rows) {
    expect(r).toMatchObject({ status: 'failed', attempts: 1, message_id: expectedMessageId(r) });
    expect(r.last_error).toMatch(/^550 5\.1\.1 mailbox unavailable/);
    expect(recipients).toContain(r.recipient);
  }
  // Failed is final: no later pass tries again on its own.
  now += 86_400;
  expect(await drainOnce(world.db.ds, world.smtp.url, { now: () => now })).toBe(0);
  expect(world.smtp.rcptAttempts).toHaveLength(2);

  world.smtp.mode = 'accept';
  const retry = billing(['notices', 'retry', '--failed', '--invoice', ids[0]!], { DATABASE_URL: world.db.url });
  expect(retry.code).toBe(0);
  expect(retry.out).toContain(`1 notice(s) back to pending`);
  expect(await drainOnce(world.db.ds, world.smtp.url, { now: () => now })).toBe(1);

  rows = await rowsOf(ids);
  const [retried, untouched] = ids.map((id) => rows.find((r) => r.stripe_invoice_id === id)!);
  expect(retried).toMatchObject({ status: 'sent', attempts: 1, last_error: null });
  expect(untouched).toMatchObject({ status: 'failed', attempts: 1 });
  expect(world.smtp.messages.map((m) => m.messageId)).toEqual([expectedMessageId(retried!)]);
});

it('a refused connection is transient: the notice stays pending and goes out when the server is reachable', async () => {
  const { ids } = await pendingIssued(1);
  let now = wallNow();
  const closed = `smtp://127.0.0.1:${await freePort()}`;
  expect(await drainOnce(world.db.ds, world.smtp.url, { now: () => now, smtpUrl: closed })).toBe(1);
  const [row] = await rowsOf(ids);
  expect(row).toMatchObject({ status: 'pending', attempts: 1, next_attempt_at: now + 1 });
  expect(row!.last_error).toMatch(/ECONNREFUSED/);

  now += 1;
  expect(await drainOnce(world.db.ds, world.smtp.url, { now: () => now })).toBe(1);
  expect(await rowsOf(ids)).toEqual([expect.objectContaining({ status: 'sent', attempts: 2, last_error: null })]);
  expect(world.smtp.messages).toHaveLength(1);
});

it('a running mailer rides out a 451 spell on the real clock and delivers each notice exactly once', async () => {
  const { ids, recipients } = await pendingIssued(5);
  world.smtp.mode = '451';
  const mailer = testMailer(world.db.ds, world.smtp.url, { maxBackoffSeconds: 1, concurrency: 3 });
  mailer.start();
  try {
    await waitFor('every notice refused at least twice', async () => (await rowsOf(ids)).every((r) => r.attempts >= 2), 15_000);
    expect(world.smtp.messages).toEqual([]);
    world.smtp.mode = 'accept';
    await waitFor('every notice sent', async () => (await rowsOf(ids)).every((r) => r.status === 'sent'), 15_000);
  } finally {
    await mailer.stop();
  }
  expect(world.smtp.messages.map((m) => m.envelopeTo[0]).sort()).toEqual([...recipients].sort());
  expect(new Set(world.smtp.messages.map((m) => m.messageId)).size).toBe(5);
});
