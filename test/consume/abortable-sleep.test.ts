// Found while running the suite after the fault-injection work: every backoff sleep of a gate left
// an abort listener on the gate's signal, so a long outage leaked them (Node warned at eleven).
import { getEventListeners } from 'node:events';
import { abortableSleep } from '../../src/consume/abortable-sleep';

it('leaves no listener behind when the sleep runs its course', async () => {
  const controller = new AbortController();
  for (let i = 0; i < 50; i++) await abortableSleep(1, controller.signal);
  expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
});

it('ends at once when aborted, and immediately when already aborted', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const sleeping = abortableSleep(60_000, controller.signal);
  controller.abort();
  await sleeping;
  await abortableSleep(60_000, controller.signal);
  expect(Date.now() - started).toBeLessThan(1_000);
});
