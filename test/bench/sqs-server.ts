// The benchmark's queue server, in its own process as a remote queue would be.
import { startEmbeddedSqs } from '../../src/embedded/embedded-sqs';

async function main() {
  const sqs = await startEmbeddedSqs({ maxReceiveCount: 5, visibilityTimeoutSeconds: 60, queueName: 'bench-events' });
  process.stdout.write(`${JSON.stringify({ endpoint: sqs.endpoint, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl })}\n`);
  process.once('SIGTERM', () => void sqs.stop().then(() => process.exit(0)));
}
void main();
