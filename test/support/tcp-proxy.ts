import net from 'node:net';

/**
 * A TCP relay placed between the product and a service, so a test can break the network to that
 * service (refuse new connections, cut open ones, delay traffic) and mend it again without losing
 * the service's state.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  /** New connections are accepted and closed at once (a crashed service behind a live host). */
  private closing = false;
  /** The listener is gone: new connections get ECONNREFUSED, as from a host with nothing on the port. */
  private refusing = false;
  private delayMs = 0;
  port = 0;
  /** Connections accepted and relayed since start, for the figures. */
  connections = 0;

  constructor(private readonly targetHost: string, private readonly targetPort: number) {}

  async start(port = 0): Promise<number> {
    this.server = this.listener();
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
    return this.port;
  }

  private listener(): net.Server {
    return net.createServer((client) => {
      if (this.closing) {
        client.destroy();
        return;
      }
      this.connections++;
      const upstream = net.connect(this.targetPort, this.targetHost);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      this.relay(client, upstream);
      this.relay(upstream, client);
    });
  }

  /**
   * Forwards with the current delay applied per chunk, in order. Back-pressure is not needed:
   * tests move at most a few megabytes through a proxy.
   */
  private relay(from: net.Socket, to: net.Socket): void {
    let tail = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const delay = this.delayMs;
      if (delay === 0) {
        tail = tail.then(() => void (to.destroyed || to.write(chunk)));
        return;
      }
      const due = Date.now() + delay;
      tail = tail.then(() => new Promise<void>((resolve) => setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
        resolve();
      }, Math.max(0, due - Date.now()))));
    });
    from.on('end', () => void tail.then(() => to.end()));
  }

  /** Closes every open connection, as a crashed service or a dropped route would. */
  cutOpen(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** The service looks down: open connections are cut, new ones are closed at once. */
  cut(): void {
    this.closing = true;
    this.cutOpen();
  }

  /** Nothing listens any more: new connections are refused (ECONNREFUSED); open ones are cut. */
  async refuse(): Promise<void> {
    if (this.refusing || !this.server) return;
    this.refusing = true;
    this.cutOpen();
    const server = this.server;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Every chunk, both ways, arrives `ms` later (0 turns it off); a very long delay is a black hole. */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /** Back to a plain relay on the same port. */
  async restore(): Promise<void> {
    this.closing = false;
    this.delayMs = 0;
    if (this.refusing) {
      this.server = this.listener();
      await new Promise<void>((resolve, reject) => {
        this.server!.once('error', reject);
        this.server!.listen(this.port, '127.0.0.1', () => resolve());
      });
      this.refusing = false;
    }
  }

  async stop(): Promise<void> {
    this.cut();
    const server = this.server;
    if (!server || this.refusing) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Rewrites a URL's port to go through a proxy on 127.0.0.1. */
export function viaProxy(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString().replace(/\/$/, '');
}
