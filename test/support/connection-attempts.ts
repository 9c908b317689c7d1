import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

export interface ConnectionAttempts {
  /** TCP connections this process started to the port since the watch began, with when each started. */
  readonly startedAt: readonly number[];
  /** Those the port refused (ECONNREFUSED: nothing listening). */
  readonly refused: number;
  stop(): void;
}

/**
 * Watches every TCP connection this process starts to `port` on 127.0.0.1, whichever client
 * starts it (pg, the AWS SDK): node announces each new client socket on its `net.client.socket`
 * channel. A test that breaks a service behind a proxy waits on these to know the product really
 * tried the service, instead of sleeping and hoping it did.
 */
export function watchConnectionAttempts(port: number): ConnectionAttempts {
  const startedAt: number[] = [];
  let refused = 0;
  const onSocket = (message: unknown) => {
    const socket = (message as { socket: Socket }).socket;
    socket.on('connectionAttempt', (_ip: string, attemptPort: number) => {
      if (attemptPort === port) startedAt.push(Date.now());
    });
    socket.on('connectionAttemptFailed', (_ip: string, attemptPort: number, _family: number, err?: NodeJS.ErrnoException) => {
      if (attemptPort === port && err?.code === 'ECONNREFUSED') refused++;
    });
  };
  diagnostics.subscribe('net.client.socket', onSocket);
  return {
    startedAt,
    get refused() {
      return refused;
    },
    stop: () => diagnostics.unsubscribe('net.client.socket', onSocket),
  };
}
