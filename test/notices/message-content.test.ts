// What arrives at the SMTP server: amounts in the invoice's currency, customer-controlled text that
// can neither add a header nor markup, only web links behind buttons, and a Message-ID that is the
// same every time the notice is sent (also after a crash between the server's 250 and the commit).
import { createDataSource } from '../../src/db/data-source';
import { sweepInvoices } from '../../src/sweep/invoice-sweep';
import { ALL_NOTICES } from '../support/notice-policy';
import { DAY, deliverAll, drainOnce, expectedMessageId, finalizedEvent, noticeRows, openInvoice, useNoticeWorld, testMailer, wallNow } from './harness';
import { waitFor } from '../support/wait';

const world = useNoticeWorld();

/** Receives one open invoice, runs a mailer pass, and returns its mail in outbox order. */
async function mailFor(fields: Parameters<typeof openInvoice>[0]) {
  const inv = openInvoice(fields);
  await deliverAll(world(), [finalizedEvent(inv)]);
  await drainOnce(world().db.ds, world().smtp.url, { now: () => wallNow() + 1, concurrency: 1 });
  const recipient = inv['customer_email'] as string;
  return { id: inv['id'] as string, number: inv['number'] as string, mails: world().smtp.to(recipient) };
}

describe('amounts in the delivered email', () => {
  it('shows a zero-decimal currency (JPY) in whole yen, in the issue email and in an overdue notice', async () => {
    const due = wallNow() + 10 * DAY;
    const { id, number } = await mailFor({ currency: 'jpy', amount: 1500, dueDate: due });
    await sweepInvoices(world().db.ds, due + 2 * DAY, ALL_NOTICES);
    await drainOnce(world().db.ds, world().smtp.url, { now: () => due + 2 * DAY, concurrency: 1 });
    const mails = world().smtp.to((await noticeRows(world().db.ds, [id]))[0]!.recipient!);
    expect(mails.map((m) => m.subject)).toEqual([expect.stringMatching(new RegExp(`^Invoice ${number} from Acme Billing: ¥1,500 due `)), `Invoice ${number} is 2 days overdue`]);
    const [issued, overdue] = mails as [(typeof mails)[0], (typeof mails)[0]];
    expect(issued.text).toContain('Amount due: ¥1,500\n');
    expect(issued.html).toContain('¥1,500');
    expect(overdue.text).toContain('Amount remaining: ¥1,500\n');
    for (const m of mails) expect(m.text + m.html).not.toMatch(/¥15\.00|¥1,500\.00|JPY/);
  });

  it('shows USD with cents and thousands separators', async () => {
    const { number, mails } = await mailFor({ currency: 'usd', amount: 123456 });
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe(`Invoice ${number} from Acme Billing: $1,234.56 due`);
    expect(mails[0]!.text).toContain('Amount due: $1,234.56\n');
    expect(mails[0]!.html).toContain('$1,234.56');
  });

  it('shows a three-decimal currency (KWD) with its three digits', async () => {
    const { mails } = await mailFor({ currency: 'kwd', amount: 1234 });
    // Intl puts a no-break space between the code and the number.
    expect(mails[0]!.text).toContain('Amount due: KWD\u00a01.234\n');
  });
});

describe('customer-controlled text', () => {
  const evilName = 'Jane\r\nBcc: attacker@evil.test\r\n\r\n<script>alert("x")</script> & <b>Co</b>';

  it('a name with CR/LF and HTML adds no header or recipient, reads on one line, and is escaped in the HTML part', async () => {
    const { mails } = await mailFor({ customerName: evilName, number: 'INV-7\r\nBcc: attacker@evil.test' });
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(world().smtp.rcptAttempts).toEqual(mail.envelopeTo);
    expect(mail.envelopeTo).toHaveLength(1);
    expect(mail.headerLines.filter((h) => /^(bcc|cc):/i.test(h))).toEqual([]);
    expect(mail.raw).not.toMatch(/^Bcc:/im);
    expect(mail.subject).toBe('Invoice INV-7 Bcc: attacker@evil.test from Acme Billing: $12.34 due');

    const oneLine = 'Jane Bcc: attacker@evil.test <script>alert("x")</script> & <b>Co</b>';
    expect(mail.text).toContain(`Hello ${oneLine},\n`);
    expect(mail.text).toContain(`billing contact for ${oneLine}.`);
    const escaped = 'Jane Bcc: attacker@evil.test &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;';
    expect(mail.html).toContain(`Hello ${escaped},`);
    expect(mail.html).not.toContain('<script');
    expect(mail.html).not.toContain('<b>Co');
  });

  it('puts no button behind a link that is not http(s)', async () => {
    const { mails } = await mailFor({ hostedInvoiceUrl: 'javascript:alert(document.cookie)', invoicePdf: 'data:text/html,<script>x</script>' });
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).not.toMatch(/Pay now|Download PDF|javascript:|data:/);
    expect(mails[0]!.html).not.toMatch(/javascript:|data:text/);
    expect(mails[0]!.html).not.toContain('Pay now');
  });
});

describe('headers', () => {
  it('From, To and a Message-ID of the form <notice-ID.kind.seq.invoice@domain>, also stored on the row', async () => {
    const { id, mails } = await mailFor({});
    const [row] = await noticeRows(world().db.ds, [id]);
    const mail = mails[0]!;
    expect(mail.messageId).toBe(`<notice-${row!.id}.invoice_issued.0.${id}@acme.test>`);
    expect(mail.messageId).toMatch(/^<notice-\d+\.invoice_issued\.0\.in_[0-9a-f]+@acme\.test>$/);
    expect(row!.message_id).toBe(mail.messageId);
    expect(mail.header('from')).toBe('Acme Billing <billing@acme.test>');
    expect(mail.envelopeFrom).toBe('billing@acme.test');
    expect(mail.header('to')).toBe(row!.recipient);
    expect(mail.header('content-type')).toMatch(/^multipart\/alternative/);
  });

  it('a mailer that dies after the server accepted but before its commit sends again with the same Message-ID', async () => {
    const inv = openInvoice({});
    const id = inv['id'] as string;
    await deliverAll(world(), [finalizedEvent(inv)]);

    const crashingPool = createDataSource({ url: world().db.url, poolSize: 2, applicationName: 'crashing-mailer' });
    await crashingPool.initialize();
    const crashing = testMailer(crashingPool, world().smtp.url, { now: () => wallNow() + 1, concurrency: 1 });
    world().smtp.latencyMs = 1500;
    try {
      const pass = crashing.drain().then(() => 'finished', (err: Error) => err.message);
      await waitFor('the message at the server', async () => world().smtp.messages.length === 1, 10_000, 20);
      await world().db.ds.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'crashing-mailer'`);
      expect(await pass).not.toBe('finished');
    } finally {
      await crashing.stop().catch(() => undefined);
      if (crashingPool.isInitialized) await crashingPool.destroy().catch(() => undefined);
    }
    const [afterCrash] = await noticeRows(world().db.ds, [id]);
    expect(afterCrash).toMatchObject({ status: 'pending', attempts: 0, message_id: null });

    world().smtp.latencyMs = 0;
    expect(await drainOnce(world().db.ds, world().smtp.url, { now: () => wallNow() + 1 })).toBe(1);
    const [row] = await noticeRows(world().db.ds, [id]);
    expect(row).toMatchObject({ status: 'sent', attempts: 1 });
    const ids = world().smtp.messages.map((m) => m.messageId);
    expect(ids).toEqual([expectedMessageId(row!), expectedMessageId(row!)]);
  });
});
