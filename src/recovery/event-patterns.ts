/**
 * Stripe's `type` filter on GET /v1/events: an exact event type, or a prefix ending in `*` that
 * matches every type starting with it (`refund.*` lists `refund.created`, never
 * `charge.refund.updated`). These are the only forms the registry's patterns take.
 */

/** The part before the `*` of a wildcard, or null for an exact type; throws for any other form. */
function prefixOf(pattern: string): string | null {
  const star = pattern.indexOf('*');
  if (star === -1) return null;
  if (star !== pattern.length - 1) throw new Error(`event pattern ${pattern}: only a trailing * is supported`);
  return pattern.slice(0, -1);
}

/** Whether Stripe lists an event of `type` under `pattern`. */
export function patternMatches(pattern: string, type: string): boolean {
  const prefix = prefixOf(pattern);
  return prefix === null ? type === pattern : type.startsWith(prefix);
}

/** Whether every event `inner` lists is listed by `outer` too. */
function covers(outer: string, inner: string): boolean {
  const prefix = prefixOf(outer);
  if (prefix === null) return outer === inner;
  const innerPrefix = prefixOf(inner);
  return (innerPrefix ?? inner).startsWith(prefix);
}

/**
 * The patterns, in their order, less each one another already lists (a repeat, or `charge.dispute.*`
 * beside `charge.*`): listed one after another, they return each event exactly once, so nothing
 * need remember which ids it has seen, however long the window.
 */
export function disjointPatterns(patterns: readonly string[]): string[] {
  for (const p of patterns) prefixOf(p);
  return patterns.filter((p, i) => !patterns.some((q, j) => j !== i && covers(q, p) && (!covers(p, q) || j < i)));
}
