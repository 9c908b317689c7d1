// The benchmark's queue server, in its own process as a remote queue would be. It counts the
// calls it answers by action (a second port serves the counts as JSON), so the bench can tell how
// many messages each SendMessageBatch and ReceiveMessage carried.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmbeddedSqs } from '../../src/embedded/embedded-sqs';

const calls: Record<string, number> = {};
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (this: http.Server, event: string, ...args: unknown[]) {
  if (event === 'request') {
    const target = (args[0] as http.IncomingMessage).headers['x-amz-target'];
    if (typeof target === 'string') {
      const action = target.slice(target.indexOf('.') + 1);
      calls[action] = (calls[action] ?? 0) + 1;
    }
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
} as typeof emit;

async function main() {
  const sqs = await startEmbeddedSqs({ maxReceiveCount: 5, visibilityTimeoutSeconds: 60, queueName: 'bench-events' });
  const stats = http.createServer((_req, res) => res.end(JSON.stringify(calls)));
  await new Promise<void>((resolve) => stats.listen(0, '127.0.0.1', resolve));
  const statsUrl = `http://127.0.0.1:${(stats.address() as AddressInfo).port}/`;
  process.stdout.write(`${JSON.stringify({ endpoint: sqs.endpoint, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, statsUrl })}\n`);
  process.once('SIGTERM', () => void sqs.stop().then(() => process.exit(0)));
}
void main();
