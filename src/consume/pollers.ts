/**
 * Pollers per worker process when WORKER_POLLERS is unset. On SQS, more pollers keep more
 * receives waiting while the worker's transaction is busy, and those receives share the next one
 * (GroupCommit): with one transaction at a time, 16 pollers drained about a fifth faster than 8
 * at less CPU per message, and 24 or 32 no faster than 16. With HEAP_GROWTH_PERCENT bounding the
 * old generation, the worker peaks at about 185 MB with 16 in the bench's long drains (without
 * it, 16 went over the 250 MB target). The embedded queue answers a waiting poll early only once
 * it holds ten messages, so there each extra poller fills more slowly and waits out its
 * one-second poll: eight pollers put the end-to-end p99 at 0.7 s where four keep it at 0.25 s.
 */
export const SQS_POLLERS = 16;
const EMBEDDED_QUEUE_POLLERS = 4;

export function workerPollers(configured: number | undefined, embeddedQueue: boolean): number {
  return configured ?? (embeddedQueue ? EMBEDDED_QUEUE_POLLERS : SQS_POLLERS);
}
