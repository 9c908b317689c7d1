// The ingest baseline: express answering 200 to the same requests with no verification and no queue.
import express from 'express';

const app = express();
app.post('/webhooks/stripe', express.raw({ type: () => true, limit: 2 * 1024 * 1024 }), (_req, res) => {
  res.json({ received: true });
});
const server = app.listen(Number(process.env['PORT']), '127.0.0.1', () => process.stdout.write('listening\n'));
server.keepAliveTimeout = 65_000;
process.once('SIGTERM', () => server.close(() => process.exit(0)));
