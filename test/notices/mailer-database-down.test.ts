// Found by the fault suite (database outage): the mailer logged an error at every poll while the
// database was down (five lines a second at a 200 ms poll) and kept knocking at full rate.
import { Writable } from 'node:stream';
import pino from 'pino';
import { createDataSource } from '../../src/db/data-source';
import { Mailer } from '../../src/mail/mailer';
import { smtpTransport } from '../../src/mail/transport';
import { TcpProxy, viaProxy } from '../support/tcp-proxy';
import { recordCalls } from '../support/call-record';
import { deliverAll, finalizedEvent, FROM, noticeRows, openInvoice, useNoticeWorld } from './harness';
import { waitFor } from '../support/wait';

const world = useNoticeWorld();

it('logs a database outage once, backs off, and sends what queued up once the database is back', async () => {
  const proxy = new TcpProxy('127.0.0.1', Number(new URL(world().db.url).port));
  await proxy.start();
  const ds = createDataSource({ url: viaProxy(world().db.url, proxy.port), poolSize: 2 });
  await ds.initialize();
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
      done();
    },
  });
  const mailer = new Mailer({ ds, transport: smtpTransport(world().smtp.url), logger: pino({ level: 'info' }, sink), from: { ...FROM }, maxAttempts: 10, maxBackoffSeconds: 300, concurrency: 2, pollIntervalMs: 50, receiptWaitSeconds: 0 });
  // Each pass opens one transaction per lane (concurrency 2) at once.
  const transactions = recordCalls(ds, 'transaction');
  try {
    mailer.start();
    await waitFor('a mailer pass before the outage', async () => transactions.settled('resolved').length > 0, 10_000, 20);
    proxy.cut();
    const cutAt = Date.now();
    await waitFor('five failed passes', async () => transactions.settled('rejected', cutAt).length >= 10, 20_000, 20);
    // Waits of 100, 200, 400 and 800 ms come between them; at 50 ms a poll they would take 200 ms.
    expect(Date.now() - cutAt).toBeGreaterThan(1_000);
    const duringOutage = lines.filter((l) => l.level >= 50);
    expect(duringOutage).toHaveLength(1);
    expect(duringOutage[0]!.msg).toMatch(/mailer pass failed/);

    const inv = openInvoice({ customerEmail: 'ap@db-down.test' });
    await deliverAll(world(), [finalizedEvent(inv)]);
    await proxy.restore();
    await waitFor('the notice to be sent', async () => (await noticeRows(world().db.ds, [inv['id'] as string]))[0]?.status === 'sent', 15_000, 100);
    expect(world().smtp.to('ap@db-down.test')).toHaveLength(1);
    // Logged when the pass that sent it ends, which may be just after the row says sent.
    await waitFor('the recovery to be logged', async () => lines.some((l) => l.msg === 'mailer passes succeed again'), 5_000, 20);
    expect(lines.filter((l) => l.msg === 'mailer passes succeed again')).toHaveLength(1);
  } finally {
    transactions.restore();
    await mailer.stop();
    await ds.destroy();
    await proxy.stop();
  }
});
