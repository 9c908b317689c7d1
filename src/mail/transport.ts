import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';

export interface OutgoingMail {
  from: { name: string | null; address: string };
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

export interface MailTransport {
  /** Resolves with the server's reply once it accepted the message. */
  send(mail: OutgoingMail): Promise<string>;
  close(): void;
  /** For banners and logs; never includes credentials. */
  describe: string;
}

/** nodemailer encodes the display name; nothing here reads files or URLs named in the content. */
function toNodemailer(mail: OutgoingMail) {
  return {
    from: mail.from.name ? { name: mail.from.name, address: mail.from.address } : mail.from.address,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    messageId: mail.messageId,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

function safeDescribe(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || (u.protocol === 'smtps:' ? 465 : 587)}`;
}

export function smtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport(url);
  return {
    describe: safeDescribe(url),
    send: async (mail) => {
      const info = await transporter.sendMail(toNodemailer(mail));
      return String(info.response ?? 'accepted');
    },
    close: () => transporter.close(),
  };
}

/** Without SMTP_URL each message becomes an .eml file a person can open in a mail program. */
export function fileTransport(dir: string): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    describe: `${dir} (.eml files)`,
    send: async (mail) => {
      const info = await transporter.sendMail(toNodemailer(mail));
      await fs.mkdir(dir, { recursive: true });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}_${mail.messageId.replace(/[<>]/g, '').replace(/[^A-Za-z0-9._-]/g, '_')}.eml`;
      await fs.writeFile(path.join(dir, name), info.message as Buffer);
      return `written ${name}`;
    },
    close: () => transporter.close(),
  };
}

export interface SendFailure {
  permanent: boolean;
  /** The server's reply or the connection error, for last_error. */
  message: string;
}

/**
 * A 5xx at these steps is about our connection to the relay (a rotated password, a relay that
 * refuses us), not about the notice: failing every due notice for it would need a manual retry.
 */
const SESSION_COMMANDS = /^(CONN|EHLO|HELO|LHLO|AUTH|STARTTLS)\b/i;

/** 5xx replies to a notice's envelope or content are permanent; 4xx, session, connection and timeout failures are worth retrying. */
export function classifySendError(err: unknown): SendFailure {
  const e = err as { responseCode?: number; response?: string; code?: string; command?: string; message?: string };
  const code = typeof e.responseCode === 'number' ? e.responseCode : null;
  const message = (e.response ?? e.message ?? String(err)).slice(0, 1000);
  const session = e.code === 'EAUTH' || (typeof e.command === 'string' && SESSION_COMMANDS.test(e.command));
  if (code !== null && code >= 500 && code < 600 && !session) return { permanent: true, message };
  return { permanent: false, message: code !== null ? message : `${e.code ?? 'error'}: ${message}` };
}
