import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** One message as the server received it, decoded the way a mail program would read it. */
export interface ReceivedMail {
  /** MAIL FROM and RCPT TO, as the client gave them in the envelope. */
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  /** Header lines with folding undone, in order, e.g. `Subject: Invoice …` (encoded words left as sent). */
  headerLines: string[];
  /** The decoded value of a header; undefined when absent. Throws when it occurs more than once. */
  header(name: string): string | undefined;
  messageId: string;
  subject: string;
  text: string;
  html: string;
}

/** What the server answers to RCPT TO: accept, a transient 451, or a permanent 550. */
export type SinkMode = 'accept' | '451' | '550';

export interface SmtpSink {
  /** `smtp://127.0.0.1:PORT`, for smtpTransport / SMTP_URL. */
  url: string;
  messages: ReceivedMail[];
  /** Every RCPT TO the server saw, accepted or not. */
  rcptAttempts: string[];
  mode: SinkMode;
  /** How long the server takes to answer the end of DATA; widens race windows. */
  latencyMs: number;
  /** The messages sent to one address. */
  to(address: string): ReceivedMail[];
  clear(): void;
  close(): Promise<void>;
}

const unfold = (block: string) => block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/).filter((l) => l !== '');

function decodeQuotedPrintable(encoded: string): Buffer {
  const soft = encoded.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i]!;
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`); adjacent words join without the space. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')).toString('utf8'),
    );
}

function decodeBody(body: string, transferEncoding: string): string {
  const cte = transferEncoding.toLowerCase();
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (cte === 'quoted-printable') return decodeQuotedPrintable(body).toString('utf8');
  return body;
}

interface Part {
  headers: string[];
  body: string;
}

function splitPart(raw: string): Part {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return { headers: unfold(raw), body: '' };
  return { headers: unfold(raw.slice(0, m.index)), body: raw.slice(m.index + m[0].length) };
}

const headerValues = (headers: string[], name: string) =>
  headers.filter((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((h) => h.slice(name.length + 1).trim());

/** Text and HTML bodies of a single-part or (nested) multipart message. */
function bodies(part: Part, found: { text: string; html: string }): void {
  const type = headerValues(part.headers, 'content-type')[0] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const chunks = part.body.split(`--${boundary}`).slice(1);
    for (const chunk of chunks) {
      if (chunk.startsWith('--')) break;
      bodies(splitPart(chunk.replace(/^\r?\n/, '')), found);
    }
    return;
  }
  const decoded = decodeBody(part.body.replace(/\r?\n$/, ''), headerValues(part.headers, 'content-transfer-encoding')[0] ?? '7bit');
  const text = decoded.replace(/\r\n/g, '\n');
  if (/^text\/html/i.test(type)) found.html += text;
  else if (/^text\/plain/i.test(type)) found.text += text;
}

export function parseMail(raw: string, envelopeFrom: string, envelopeTo: string[]): ReceivedMail {
  const top = splitPart(raw);
  const header = (name: string) => {
    const values = headerValues(top.headers, name);
    if (values.length > 1) throw new Error(`${name} occurs ${values.length} times`);
    return values[0] === undefined ? undefined : decodeWords(values[0]);
  };
  const found = { text: '', html: '' };
  bodies(top, found);
  return {
    envelopeFrom,
    envelopeTo,
    raw,
    headerLines: top.headers,
    header,
    messageId: header('message-id') ?? '',
    subject: header('subject') ?? '',
    text: found.text,
    html: found.html,
  };
}

/** A real SMTP server on 127.0.0.1 (a free port) that keeps every message it accepts. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const sink = {
    messages: [] as ReceivedMail[],
    rcptAttempts: [] as string[],
    mode: 'accept' as SinkMode,
    latencyMs: 0,
  };
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      sink.rcptAttempts.push(address.address);
      const reject = (responseCode: number, message: string) => callback(Object.assign(new Error(message), { responseCode }));
      if (sink.mode === '451') return reject(451, '4.7.1 greylisted, try again later');
      if (sink.mode === '550') return reject(550, '5.1.1 mailbox unavailable');
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        const to = session.envelope.rcptTo.map((r) => r.address);
        sink.messages.push(parseMail(Buffer.concat(chunks).toString('utf8'), from, to));
        setTimeout(() => callback(), sink.latencyMs);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return Object.assign(sink, {
    url: `smtp://127.0.0.1:${port}`,
    to: (address: string) => sink.messages.filter((m) => m.envelopeTo.includes(address)),
    clear: () => {
      sink.latencyMs = 0;
      sink.messages.length = 0;
      sink.rcptAttempts.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
