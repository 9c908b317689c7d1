// Found by the fault suite (database outage): the database went away between the SMTP server's
// 250 and the mailer's UPDATE, the transaction rolled back, and once the database was back the
// notice was sent again. The mailer now remembers what the server accepted until it is on record.
import pino from 'pino';
import { createDataSource } from '../../src/db/data-source';
import { Mailer } from '../../src/mail/mailer';
import { smtpTransport } from '../../src/mail/transport';
import { TcpProxy, viaProxy } from '../support/tcp-proxy';
import { recordCalls } from '../support/call-record';
import { deliverAll, finalizedEvent, FROM, noticeRows, openInvoice, useNoticeWorld } from './harness';
import { waitFor } from '../support/wait';

const world = useNoticeWorld();

it('records, without sending it again, a notice the server accepted while the database was lost', async () => {
  const proxy = new TcpProxy('127.0.0.1', Number(new URL(world().db.url).port));
  await proxy.start();
  const ds = createDataSource({ url: viaProxy(world().db.url, proxy.port), poolSize: 2 });
  await ds.initialize();
  const mailer = new Mailer({ ds, transport: smtpTransport(world().smtp.url), logger: pino({ level: 'silent' }), from: { ...FROM }, maxAttempts: 10, maxBackoffSeconds: 300, concurrency: 1, pollIntervalMs: 50, receiptWaitSeconds: 0 });
  const transactions = recordCalls(ds, 'transaction');
  try {
    const inv = openInvoice({ customerEmail: 'ap@db-lost.test' });
    await deliverAll(world(), [finalizedEvent(inv)]);
    // The server stores the message, then takes its time to say 250: the database goes in between.
    world().smtp.latencyMs = 1_500;
    mailer.start();
    await waitFor('the server to store the message', async () => world().smtp.to('ap@db-lost.test').length === 1, 10_000, 20);
    proxy.cut();
    // One lane, busy with this notice: the first transaction to fail is the one that sent it.
    await waitFor('the sending transaction to fail', async () => transactions.settled('rejected').length > 0, 10_000, 20);
    expect((await noticeRows(world().db.ds, [inv['id'] as string]))[0]?.status).not.toBe('sent');
    world().smtp.latencyMs = 0;
    await proxy.restore();

    await waitFor('the notice on record', async () => (await noticeRows(world().db.ds, [inv['id'] as string]))[0]?.status === 'sent', 20_000, 100);
    const [row] = await noticeRows(world().db.ds, [inv['id'] as string]);
    expect(row).toMatchObject({ status: 'sent', attempts: 1, recipient: 'ap@db-lost.test' });
    // A later round of the mailer done too: had the notice still looked unsent, it would have claimed and sent it again.
    const recordedAt = Date.now();
    await waitFor('a mailer pass after the record', async () => transactions.settled('resolved', recordedAt).length > 0, 10_000, 20);
    const mails = world().smtp.to('ap@db-lost.test');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.messageId).toBe(row!.message_id);
  } finally {
    transactions.restore();
    await mailer.stop();
    await ds.destroy();
    await proxy.stop();
  }
});
