const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const unstorable = (s: string) => s.includes('\u0000') || UNPAIRED_SURROGATE.test(s);

/** A `\u` escape of NUL or of a surrogate (either half), in any case. */
const SUSPECT_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

/**
 * False when the JSON text cannot parse to a string that findUnstorableText would refuse: such a
 * string needs a NUL or an unpaired surrogate in the text itself, or an escape of one. A valid
 * pair or an escaped backslash before `u0000` only answers true, and the walk decides. It saves
 * the walk over every string of nearly every event.
 */
export function mayHoldUnstorableText(json: string): boolean {
  return unstorable(json) || SUSPECT_ESCAPE.test(json);
}

/**
 * The path of the first string (key or value) PostgreSQL's text and jsonb cannot hold: one with
 * U+0000 or an unpaired UTF-16 surrogate, both of which JSON can carry as escapes. Null when there
 * is none. Iterative, since a verified event may be nested deeper than the call stack allows.
 */
export function findUnstorableText(value: unknown): string | null {
  const stack: Array<{ v: unknown; path: string }> = [{ v: value, path: '' }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (unstorable(v)) return path || '(root)';
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: `${path}[${i}]` }));
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) {
        if (unstorable(k)) return `${path ? `${path}.` : ''}(a key)`;
        // Paths are for people: capped so a deep chain cannot make the message itself huge.
        stack.push({ v: item, path: path.length > 200 ? path : path ? `${path}.${k}` : k });
      }
    }
  }
  return null;
}
