import { Worker } from 'node:worker_threads';

/**
 * The worker thread's whole program, plain CommonJS so that it runs the same from ts-node, tsx
 * and the built dist: it starts local-aws-sqs with the options it is given and reports the port.
 */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const { createSqsServer } = require(workerData.module);
createSqsServer(workerData.options).then(
  (server) => {
    parentPort.postMessage({ port: server.address().port });
    parentPort.on('message', () => {
      if (server.closeAllConnections) server.closeAllConnections();
      server.close(() => parentPort.postMessage({ closed: true }));
    });
  },
  (err) => parentPort.postMessage({ error: String((err && err.message) || err) }),
);
`;

export interface ThreadServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * Runs the queue server on its own thread of this process: `npm start` otherwise serves the queue,
 * the webhook and the consumer from one event loop, and under load each slows the others down.
 */
export function startSqsServerThread(options: Record<string, unknown>): Promise<ThreadServer> {
  const worker = new Worker(PROGRAM, { eval: true, workerData: { module: require.resolve('local-aws-sqs'), options } });
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    worker.once('error', onError);
    worker.once('message', (m: { port?: number; error?: string }) => {
      worker.off('error', onError);
      if (m.error !== undefined || m.port === undefined) {
        void worker.terminate();
        reject(new Error(`the embedded queue server did not start: ${m.error ?? 'no port'}`));
        return;
      }
      resolve({
        port: m.port,
        stop: () =>
          new Promise<void>((done) => {
            worker.once('message', () => void worker.terminate().then(() => done()));
            worker.postMessage('stop');
          }),
      });
    });
  });
}
