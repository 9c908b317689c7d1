import { finalizedEvent, openInvoice } from '../notices/harness';
import { mapLimit } from '../integration/helpers';
import { sendRaw } from '../support/sqs';
import { uid } from '../support/stripe-events';
import { startBilling, type BillingProcess } from './support/billing-process';
import { Figures, scaled } from './support/run';
import { startFaultWorld, type FaultWorld } from './support/world';
import { sleep, waitFor } from '../support/wait';

const PER_PHASE = scaled(40, 8);
const KILLS = 3;

let world: FaultWorld;
let worker: BillingProcess;
const mailers: BillingProcess[] = [];
const figures = new Figures('mail server faults');

beforeAll(async () => {
  world = await startFaultWorld();
  worker = await startBilling('worker', world.env(), 'mail-worker');
});

afterAll(async () => {
  figures.write();
  for (const m of mailers) await m.kill();
  await worker?.kill();
  await world?.close();
});

interface NoticeRow {
  stripe_invoice_id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  message_id: string | null;
}

/** Open invoices whose invoice_issued notices are queued; resolves once the outbox holds them all. */
async function issueInvoices(n: number, email: (i: number) => string = (i) => `ap+${i}@customer.test`): Promise<string[]> {
  const ids = Array.from({ length: n }, () => uid('in'));
  await mapLimit(ids, 8, (id, i) => sendRaw(world.sqs.client, world.sqs.queueUrl, JSON.stringify(finalizedEvent(openInvoice({ id, customerEmail: email(i) })))));
  await waitFor('the notices to be queued', async () => (await rows(ids)).length === n, 60_000, 100);
  return ids;
}

const rows = (ids: readonly string[]): Promise<NoticeRow[]> =>
  world.db.ds.query(`SELECT stripe_invoice_id, status, attempts, last_error, message_id FROM email_notices WHERE stripe_invoice_id = ANY($1::text[])`, [ids]);

const settled = (ids: readonly string[]) => async () => (await rows(ids)).every((r) => r.status !== 'pending');

async function startMailer(env: Record<string, string> = {}): Promise<BillingProcess> {
  const m = await startBilling('mailer', world.env(env), `mail-mailer-${mailers.length}`);
  mailers.push(m);
  return m;
}

/** Messages the server stored for these invoices, by Message-ID. */
function storedFor(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of world.mail.messages) if (ids.some((id) => m.messageId.includes(`.${id}@`))) counts.set(m.messageId, (counts.get(m.messageId) ?? 0) + 1);
  return counts;
}

const maxCount = (m: Map<string, number>) => Math.max(0, ...m.values());

it('retries 4xx refusals and network faults until every notice is delivered once', async () => {
  const ids = await issueInvoices(PER_PHASE);
  world.mail.mode = '451';
  const mailer = await startMailer();
  await waitFor('a few refusals', async () => world.mail.replies.filter((r) => r.code === 451).length >= PER_PHASE, 30_000, 100);
  // Then the network: refused, then cut mid-conversation, then slow.
  world.mail.mode = 'accept';
  await world.smtpProxy.refuse();
  await sleep(2_000);
  await world.smtpProxy.restore();
  world.smtpProxy.delay(300);
  const cutter = setInterval(() => world.smtpProxy.cutOpen(), 700);
  await sleep(3_000);
  clearInterval(cutter);
  await world.smtpProxy.restore();
  const recoveredAt = Date.now();
  await waitFor('every notice sent', settled(ids), 60_000, 200);
  const doneMs = Date.now() - recoveredAt;
  await mailer.stop();

  const r = await rows(ids);
  const stored = storedFor(ids);
  figures.set('4xx/network: notices', ids.length);
  figures.set('4xx/network: 451 answers', world.mail.replies.filter((x) => x.code === 451).length);
  figures.set('4xx/network: attempts per notice, max', Math.max(...r.map((x) => x.attempts)));
  figures.set('4xx/network: delivered after the faults ended', `${(doneMs / 1000).toFixed(1)} s`);
  figures.set('4xx/network: stored, stored twice', `${stored.size}, ${[...stored.values()].filter((n) => n > 1).length}`);
  expect(r.map((x) => x.status)).toEqual(ids.map(() => 'sent'));
  expect(stored.size).toBe(ids.length);
  expect(maxCount(stored)).toBe(1);
});

it('marks a 5xx rejection failed after one attempt, with the reply, and delivers the rest', async () => {
  const ids = await issueInvoices(PER_PHASE, (i) => (i % 4 === 0 ? `gone${i}@dead.test` : `ap+${i}@customer.test`));
  world.mail.rejectRecipients = /@dead\.test$/;
  const mailer = await startMailer();
  await waitFor('every notice settled', settled(ids), 60_000, 200);
  await mailer.stop();
  world.mail.rejectRecipients = null;

  const r = await rows(ids);
  const failed = r.filter((x) => x.status === 'failed');
  figures.set('5xx: notices, failed (dead mailbox)', `${ids.length}, ${failed.length}`);
  figures.set('5xx: last_error of a failed one', failed[0]?.last_error ?? '-');
  expect(failed).toHaveLength(Math.ceil(PER_PHASE / 4));
  expect(failed.every((x) => x.attempts === 1 && /550/.test(x.last_error ?? ''))).toBe(true);
  expect(r.filter((x) => x.status === 'sent')).toHaveLength(ids.length - failed.length);
  expect(maxCount(storedFor(ids))).toBe(1);
});

it('holds notices, failing none, while the relay refuses our login (535), and sends them once it accepts it again', async () => {
  const ids = await issueInvoices(PER_PHASE);
  world.mail.acceptAuth = false;
  const failuresBefore = world.mail.authFailures;
  const mailer = await startMailer();
  await waitFor('refused logins', async () => world.mail.authFailures - failuresBefore >= PER_PHASE, 30_000, 100);
  const refused = world.mail.authFailures - failuresBefore;
  world.mail.acceptAuth = true;
  await waitFor('every notice sent', settled(ids), 60_000, 200);
  await mailer.stop();

  const r = await rows(ids);
  figures.set('535 on AUTH: notices, logins refused, failed', `${ids.length}, ${refused}, ${r.filter((x) => x.status === 'failed').length}`);
  expect(r.map((x) => x.status)).toEqual(ids.map(() => 'sent'));
  expect(maxCount(storedFor(ids))).toBe(1);
});

it('retries a connection dropped before or after acceptance; only the latter can duplicate, with the same Message-ID', async () => {
  const before = await issueInvoices(PER_PHASE);
  world.mail.mode = 'drop-before-accept';
  const mailer = await startMailer({ MAILER_CONCURRENCY: '1' });
  const storedAtStart = world.mail.messages.length;
  await sleep(1_500);
  world.mail.mode = 'drop-after-accept';
  await waitFor('a few drops after acceptance', async () => world.mail.messages.length - storedAtStart >= 3, 30_000, 50);
  world.mail.mode = 'accept';
  await waitFor('every notice sent', settled(before), 60_000, 200);
  await mailer.stop();

  const stored = storedFor(before);
  const twice = [...stored].filter(([, n]) => n > 1);
  const r = await rows(before);
  figures.set('dropped connection: notices, stored twice (same Message-ID)', `${before.length}, ${twice.length}`);
  expect(r.every((x) => x.status === 'sent')).toBe(true);
  expect(stored.size).toBe(before.length);
  expect(twice.length).toBeGreaterThan(0);
  // Each duplicate is the message the server accepted while the mailer never heard so: once more, never more.
  expect(maxCount(stored)).toBe(2);
  for (const [messageId] of twice) expect(r.find((x) => x.message_id === messageId)?.status).toBe('sent');
});

it(`SIGKILLed ${KILLS} times between the server's acceptance and marking sent, duplicates exactly those notices with their Message-ID`, async () => {
  const ids = await issueInvoices(PER_PHASE);
  const killedOn: string[] = [];
  let mailer = await startMailer({ MAILER_CONCURRENCY: '1' });
  for (let k = 0; k < KILLS; k++) {
    const victim = mailer;
    // Half the kills before the 250 leaves the server, half after it while the mailer's UPDATE
    // is still on its way to a slow database: both are inside the window.
    const afterReply = k % 2 === 1;
    if (afterReply) world.dbProxy.delay(400);
    await new Promise<void>((resolve) => {
      world.mail.onStored = (mail) => {
        world.mail.onStored = null;
        killedOn.push(mail.messageId);
        if (!afterReply) return victim.kill().then(() => resolve());
        setTimeout(() => void victim.kill().then(() => resolve()), 100);
      };
    });
    await world.dbProxy.restore();
    mailer = await startMailer({ MAILER_CONCURRENCY: '1' });
  }
  await waitFor('every notice sent', settled(ids), 90_000, 200);
  await mailer.stop();

  const stored = storedFor(ids);
  const twice = [...stored].filter(([, n]) => n > 1).map(([id]) => id).sort();
  const r = await rows(ids);
  figures.set('mailer SIGKILLs in the window', KILLS);
  figures.set('window: notices, extra copies (same Message-ID)', `${ids.length}, ${[...stored.values()].reduce((n, c) => n + c - 1, 0)}`);
  figures.set('window: duplicates outside the killed notices', twice.filter((id) => !killedOn.includes(id)).length);
  expect(r.every((x) => x.status === 'sent')).toBe(true);
  expect(stored.size).toBe(ids.length);
  // The restarted mailer picks the oldest due notice first, often the one it died on: every kill
  // in the window is exactly one extra copy of that notice, under its Message-ID.
  expect(twice).toEqual([...new Set(killedOn)].sort());
  for (const id of twice) expect(stored.get(id)).toBe(1 + killedOn.filter((k) => k === id).length);
});
