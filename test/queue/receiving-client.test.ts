import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createReceivingSqsClient } from '../../src/queue/sqs-client';

// A queue endpoint that accepts connections and never answers: a connection that died silently.
let server: net.Server;
const sockets = new Set<net.Socket>();
beforeAll(async () => {
  server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('gives up a receive that is not answered within the receive timeout, instead of holding its poller forever', async () => {
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createReceivingSqsClient({ region: 'us-east-1', endpoint, receiveTimeoutSeconds: 2 });
  const started = Date.now();
  try {
    const receive = client.send(new ReceiveMessageCommand({ QueueUrl: `${endpoint}/000000000000/q`, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
    await expect(receive).rejects.toMatchObject({ name: 'TimeoutError' });
  } finally {
    client.destroy();
  }
  const elapsed = Date.now() - started;
  // Each attempt waited out the timeout, not just the long poll; the SDK tries three times.
  expect(elapsed).toBeGreaterThanOrEqual(3 * 2000);
  expect(elapsed).toBeLessThan(15_000);
}, 30_000);
