import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { parseMail, type ReceivedMail } from '../../support/smtp-sink';

/**
 * How the server treats a message:
 * - `accept`: stores it and answers 250;
 * - `451` / `550`: refuses every recipient (transient / permanent);
 * - `drop-before-accept`: takes the whole message, then drops the connection without storing it;
 * - `drop-after-accept`: stores the message, then drops the connection before the 250 reaches the
 *   client (the client cannot know it was accepted).
 */
export type MailMode = 'accept' | '451' | '550' | 'drop-before-accept' | 'drop-after-accept';

export interface MailServer {
  /** `smtp://USER:PASSWORD@127.0.0.1:PORT`: AUTH is required, as on a real relay. */
  url: string;
  port: number;
  mode: MailMode;
  /** Recipients matching this are refused with 550 whatever the mode (a dead mailbox). */
  rejectRecipients: RegExp | null;
  /** Every stored message, in order; a Message-ID seen twice is a duplicate delivery. */
  messages: ReceivedMail[];
  /** RCPT TO commands answered, with the code. */
  replies: Array<{ to: string; code: number }>;
  /** Called after a message is stored and before the client is told; may await (to kill a client in that window). */
  onStored: ((mail: ReceivedMail) => Promise<void> | void) | null;
  authFailures: number;
  /** False: every AUTH gets 535, as after a password rotation the client has not caught up with. */
  acceptAuth: boolean;
  /** Message-IDs stored more than once, with their counts. */
  duplicates(): Map<string, number>;
  close(): Promise<void>;
}

export async function startMailServer(user: string, password: string): Promise<MailServer> {
  const state = {
    mode: 'accept' as MailMode,
    rejectRecipients: null as RegExp | null,
    messages: [] as ReceivedMail[],
    replies: [] as Array<{ to: string; code: number }>,
    onStored: null as MailServer['onStored'],
    authFailures: 0,
    acceptAuth: true,
  };
  const server: SMTPServer = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    // Loopback only, so plain-text AUTH is fine; the password still crosses the wire for real.
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (state.acceptAuth && auth.username === user && auth.password === password) return callback(null, { user });
      state.authFailures++;
      return callback(Object.assign(new Error('5.7.8 authentication failed'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      const code = state.rejectRecipients?.test(address.address) ? 550 : state.mode === '451' ? 451 : state.mode === '550' ? 550 : 250;
      state.replies.push({ to: address.address, code });
      if (code === 250) return callback();
      const text = code === 451 ? '4.7.1 try again later' : '5.1.1 mailbox unavailable';
      return callback(Object.assign(new Error(text), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const mode = state.mode;
        const drop = () => {
          for (const c of server.connections) {
            if (c.id === session.id) (c as unknown as { _socket: { destroy(): void } })._socket.destroy();
          }
        };
        if (mode === 'drop-before-accept') return drop();
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        const mail = parseMail(Buffer.concat(chunks).toString('utf8'), from, session.envelope.rcptTo.map((r) => r.address));
        state.messages.push(mail);
        void Promise.resolve(state.onStored?.(mail)).then(() => (mode === 'drop-after-accept' ? drop() : callback()));
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return Object.assign(state, {
    url: `smtp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    port,
    duplicates: () => {
      const counts = new Map<string, number>();
      for (const m of state.messages) counts.set(m.messageId, (counts.get(m.messageId) ?? 0) + 1);
      return new Map([...counts].filter(([, n]) => n > 1));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.connections) (c as unknown as { _socket: { destroy(): void } })._socket.destroy();
        server.close(() => resolve());
      }),
  });
}
