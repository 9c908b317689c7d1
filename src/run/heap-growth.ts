import v8 from 'node:v8';

/**
 * The heap limit from which V8 lets the old generation grow up to four times what its last full
 * collection kept (its "high" growing factor); under it V8 keeps to 1.3–2 times by itself.
 */
const HIGH_GROWTH_HEAP_LIMIT = 2 * 1024 ** 3;

/**
 * How far V8 lets the old generation grow past what survived its last full collection before it
 * collects again (HEAP_GROWTH_PERCENT). On a host with a large heap limit V8 allows up to four
 * times that when collecting is cheap beside the work. A worker's batches outlive a
 * young-generation collection or two, so they are promoted and die in the old generation: with
 * about 40 MB live, a worker draining a backlog reached 250–260 MB of RSS, most of the old
 * generation garbage. V8 reads the flag at every collection, so setting it in a running process
 * takes effect; NODE_OPTIONS does not accept it. The flag replaces V8's factor outright, also
 * the smaller ones it picks on a small heap limit or near the limit, so it is set only where V8's
 * own would be the larger. Returns whether it was set. 0 leaves V8's own choice.
 */
export function limitHeapGrowth(percent: number): boolean {
  if (percent === 0 || v8.getHeapStatistics().heap_size_limit < HIGH_GROWTH_HEAP_LIMIT) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
