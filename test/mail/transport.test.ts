import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/embedded/embedded-postgres';
import { classifySendError, fileTransport, smtpTransport, type OutgoingMail } from '../../src/mail/transport';

const mail = (overrides: Partial<OutgoingMail> = {}): OutgoingMail => ({
  from: { name: 'Acme Billing', address: 'billing@acme.test' },
  to: 'jane@example.com',
  subject: 'Invoice INV-0001 from Acme',
  text: 'Hello Jane,\nyour invoice INV-0001 for USD 10.00 is due on January 15, 2027.\n',
  html: '<p>Hello Jane,</p><p>your invoice <b>INV-0001</b> for USD 10.00 is due on January 15, 2027.</p>',
  messageId: '<notice-42.invoice_issued.0.in_1Transport@acme.test>',
  ...overrides,
});

describe('classifySendError', () => {
  it.each<[string, unknown, { permanent: boolean; message: string }]>([
    ['a 451 (greylisting)', { responseCode: 451, response: '451 4.7.1 try later' }, { permanent: false, message: '451 4.7.1 try later' }],
    ['a 421 (service closing)', { responseCode: 421, response: '421 4.3.2 shutting down' }, { permanent: false, message: '421 4.3.2 shutting down' }],
    ['a 550 (no such user)', { responseCode: 550, response: '550 5.1.1 no such user' }, { permanent: true, message: '550 5.1.1 no such user' }],
    ['a 554 (rejected)', { responseCode: 554, response: '554 5.7.1 message rejected' }, { permanent: true, message: '554 5.7.1 message rejected' }],
    [
      'an envelope error carrying a 553',
      Object.assign(new Error("Can't send mail - all recipients were rejected: 553 5.1.3 bad address"), { code: 'EENVELOPE', responseCode: 553, response: '553 5.1.3 bad address' }),
      { permanent: true, message: '553 5.1.3 bad address' },
    ],
    ['a refused connection', { code: 'ECONNECTION', message: 'connect ECONNREFUSED' }, { permanent: false, message: 'ECONNECTION: connect ECONNREFUSED' }],
    // Found by the fault suite: a wrong or rotated SMTP password failed every due notice for good.
    [
      'a 535 to AUTH (wrong or rotated password)',
      Object.assign(new Error('Invalid login: 535 5.7.8 authentication failed'), { code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535, response: '535 5.7.8 authentication failed' }),
      { permanent: false, message: '535 5.7.8 authentication failed' },
    ],
    ['a 554 greeting (relay refuses us)', { code: 'EPROTOCOL', command: 'CONN', responseCode: 554, response: '554 5.7.1 no service' }, { permanent: false, message: '554 5.7.1 no service' }],
    ['a 550 to RCPT TO stays permanent', { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550, response: '550 5.1.1 no such user' }, { permanent: true, message: '550 5.1.1 no such user' }],
    ['a timeout', Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' }), { permanent: false, message: 'ETIMEDOUT: Connection timeout' }],
    ['a plain Error', new Error('socket hang up'), { permanent: false, message: 'error: socket hang up' }],
  ])('%s', (_label, err, expected) => {
    expect(classifySendError(err)).toEqual(expected);
  });

  it('keeps last_error bounded when a server replies at length', () => {
    const failure = classifySendError({ responseCode: 550, response: `550 ${'x'.repeat(5000)}` });
    expect(failure.permanent).toBe(true);
    expect(failure.message.length).toBeLessThanOrEqual(1000);
    expect(failure.message.startsWith('550 x')).toBe(true);
  });
});

describe('classifySendError on errors nodemailer really raises', () => {
  let server: SMTPServer;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    server = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      onRcptTo(address, _session, callback) {
        const reject = (responseCode: number, message: string) => callback(Object.assign(new Error(message), { responseCode }));
        if (address.address.startsWith('nobody@')) return reject(550, '5.1.1 no such user');
        if (address.address.startsWith('later@')) return reject(451, '4.7.1 try later');
        return callback();
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const sendTo = async (to: string, url = `smtp://127.0.0.1:${port}`) => {
    const transport = smtpTransport(url);
    try {
      return await transport.send(mail({ to }));
    } finally {
      transport.close();
    }
  };

  it('sends to an accepted recipient and resolves with the server reply', async () => {
    await expect(sendTo('jane@example.com')).resolves.toMatch(/^250/);
  });

  it('a 550 on RCPT is permanent, with the server reply', async () => {
    const err = await sendTo('nobody@example.com').then(() => null, (e: unknown) => e);
    expect(classifySendError(err)).toEqual({ permanent: true, message: expect.stringMatching(/^550 5\.1\.1 no such user/) });
  });

  it('a 451 on RCPT is transient, with the server reply', async () => {
    const err = await sendTo('later@example.com').then(() => null, (e: unknown) => e);
    expect(classifySendError(err)).toEqual({ permanent: false, message: expect.stringMatching(/^451 4\.7\.1 try later/) });
  });

  it('a refused connection is transient', async () => {
    const closed = await freePort();
    const err = await sendTo('jane@example.com', `smtp://127.0.0.1:${closed}`).then(() => null, (e: unknown) => e);
    expect(classifySendError(err)).toEqual({ permanent: false, message: expect.stringMatching(/ECONNREFUSED/) });
  });
});

describe('smtpTransport.describe', () => {
  it.each([
    ['smtp://user:hunter2secret@mail.example.com:2525', 'smtp://mail.example.com:2525'],
    ['smtps://user:hunter2secret@mail.example.com', 'smtps://mail.example.com:465'],
    ['smtp://mail.example.com', 'smtp://mail.example.com:587'],
  ])('%s → %s, never the credentials', (url, described) => {
    const t = smtpTransport(url);
    try {
      expect(t.describe).toBe(described);
      expect(t.describe).not.toContain('hunter2secret');
    } finally {
      t.close();
    }
  });
});

describe('fileTransport', () => {
  let base: string;
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-eml-'));
  });
  afterEach(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });

  /** Writes one message into a directory that does not exist yet; returns its file name and text. */
  async function writeOne(m: OutgoingMail) {
    const dir = path.join(base, 'mail', 'out');
    const transport = fileTransport(dir);
    try {
      const reply = await transport.send(m);
      const files = fs.readdirSync(dir);
      expect(files).toHaveLength(1);
      expect(reply).toBe(`written ${files[0]}`);
      return { name: files[0]!, eml: fs.readFileSync(path.join(dir, files[0]!), 'utf8') };
    } finally {
      transport.close();
    }
  }

  /** The header block, with folded lines joined, as a mail program reads it. */
  const headers = (eml: string) => eml.slice(0, eml.indexOf('\n\n')).replace(/\n[ \t]+/g, ' ').split('\n');
  const header = (eml: string, name: string) => headers(eml).filter((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`));

  /** The alternative parts in order, each decoded as a mail program would. */
  function partsOf(eml: string): { type: string; contentType: string; body: string }[] {
    const boundary = /boundary="?([^";\n]+)"?/.exec(header(eml, 'Content-Type')[0] ?? '')?.[1];
    if (!boundary) throw new Error('not a multipart message');
    const chunks = eml.split(`--${boundary}`).slice(1, -1);
    return chunks.map((chunk) => {
      const raw = chunk.replace(/^\n/, '');
      const split = raw.indexOf('\n\n');
      const head = headers(raw.slice(0, split) + '\n\n');
      const get = (name: string) => head.find((h) => h.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? '';
      const encoded = raw.slice(split + 2).replace(/\n$/, '');
      const cte = get('content-transfer-encoding').toLowerCase();
      const bytes =
        cte === 'base64'
          ? Buffer.from(encoded, 'base64')
          : cte === 'quoted-printable'
            ? Buffer.from(encoded.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1')
            : Buffer.from(encoded, 'utf8');
      const contentType = get('content-type');
      return { type: contentType.split(';')[0]!.trim(), contentType, body: bytes.toString('utf8') };
    });
  }

  it('writes an .eml file with the envelope headers and both a text and an HTML part', async () => {
    const { name, eml } = await writeOne(mail());
    expect(name).toMatch(/\.eml$/);
    // Nothing from the Message-ID that a file system or shell would trip over.
    expect(name).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(name).toContain('notice-42.invoice_issued.0.in_1Transport_acme.test');

    expect(header(eml, 'From')).toEqual(['From: Acme Billing <billing@acme.test>']);
    expect(header(eml, 'To')).toEqual(['To: jane@example.com']);
    expect(header(eml, 'Subject')).toEqual(['Subject: Invoice INV-0001 from Acme']);
    expect(header(eml, 'Message-ID')).toEqual(['Message-ID: <notice-42.invoice_issued.0.in_1Transport@acme.test>']);
    expect(header(eml, 'Content-Type')[0]).toMatch(/^Content-Type: multipart\/alternative; boundary=/);

    const parts = partsOf(eml);
    expect(parts.map((p) => p.type)).toEqual(['text/plain', 'text/html']);
    expect(parts[0]!.body).toBe(mail().text);
    expect(parts[1]!.body).toBe(mail().html);
  });

  it('keeps non-ASCII text readable once decoded', async () => {
    const m = mail({ text: 'Betrag: 12,00 € — fällig am 15. Januar.\n', html: '<p>Betrag: 12,00 € — fällig am 15. Januar.</p>' });
    const parts = partsOf((await writeOne(m)).eml);
    expect(parts.map((p) => p.body)).toEqual([m.text, m.html]);
    expect(parts.every((p) => /charset=utf-8/i.test(p.contentType))).toBe(true);
  });

  it('writes a bare From address when the sender has no display name', async () => {
    const { eml } = await writeOne(mail({ from: { name: null, address: 'billing@acme.test' } }));
    expect(header(eml, 'From')).toEqual(['From: billing@acme.test']);
  });

  it('encodes a non-ASCII subject and sender name rather than writing raw 8-bit headers', async () => {
    const { eml } = await writeOne(mail({ from: { name: 'Zoë Café', address: 'billing@acme.test' }, subject: 'Rechnung über 12,00 €' }));
    for (const h of headers(eml)) expect(h).toMatch(/^[\x20-\x7e]*$/);
    expect(header(eml, 'Subject')[0]).toMatch(/=\?UTF-8\?/i);
    expect(header(eml, 'From')[0]).toMatch(/=\?UTF-8\?.*<billing@acme\.test>$/i);
  });

  it('does not let a line break in the subject add a header', async () => {
    const { eml } = await writeOne(mail({ subject: 'Invoice\r\nBcc: evil@example.net' }));
    expect(header(eml, 'Bcc')).toEqual([]);
    expect(header(eml, 'Subject')).toHaveLength(1);
  });
});
