const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const unstorable = (s: string) => s.includes('\u0000') || UNPAIRED_SURROGATE.test(s);

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
