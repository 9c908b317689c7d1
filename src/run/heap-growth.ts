import v8 from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived its last full collection before it
 * collects again (HEAP_GROWTH_PERCENT). Left to its own choice, V8 allows up to four times that
 * when collecting is cheap beside the work. A worker's batches outlive a young-generation
 * collection or two, so they are promoted and die in the old generation: with about 40 MB live,
 * a worker draining a backlog reached 250–260 MB of RSS, most of the old generation garbage.
 * V8 reads the flag at every collection, so setting it in a running process takes effect; it is
 * not one of the flags NODE_OPTIONS accepts. 0 leaves V8's own choice.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
