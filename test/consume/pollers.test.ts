import { loadConfig } from '../../src/config';
import { workerPollers } from '../../src/consume/pollers';

it('polls SQS with 16 pollers and the embedded queue with 4 when WORKER_POLLERS is unset', () => {
  expect(workerPollers(loadConfig({}).workerPollers, false)).toBe(16);
  expect(workerPollers(loadConfig({}).workerPollers, true)).toBe(4);
});

it('uses WORKER_POLLERS as set, on either queue', () => {
  const configured = loadConfig({ WORKER_POLLERS: '2' }).workerPollers;
  expect(workerPollers(configured, false)).toBe(2);
  expect(workerPollers(configured, true)).toBe(2);
});
