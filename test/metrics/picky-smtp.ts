import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server that answers by recipient: `greylisted-…` always gets 451 (try again later),
 * `rejected-…` 550, anyone else is accepted. Lets one run see a notice sent, retried and failed.
 */
export async function startPickySmtp(): Promise<{ url: string; accepted: string[]; close(): Promise<void> }> {
  const accepted: string[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      const refuse = (responseCode: number, message: string) => callback(Object.assign(new Error(message), { responseCode }));
      if (address.address.startsWith('greylisted-')) return refuse(451, '4.7.1 greylisted, try again later');
      if (address.address.startsWith('rejected-')) return refuse(550, '5.1.1 mailbox unavailable');
      return callback();
    },
    onData(stream, session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        accepted.push(...session.envelope.rcptTo.map((r) => r.address));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, accepted, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
