/**
 * Stripe's form encoding of request parameters: `a=1`, `created[gte]=5`, `types[]=x` and
 * `types[0]=x` (the Node SDK sends the indexed form, curl users the empty-bracket form).
 *
 * Written here rather than taken from `qs`: qs is not a dependency of this project (at most a
 * transitive one that can vanish on any lockfile change), and the subset Stripe uses is small.
 */

export type ParamValue = string | ParamValue[] | ParamObject;
export interface ParamObject {
  [key: string]: ParamValue;
}

/** A request the server answers with 400 `invalid_request_error`, naming the parameter. */
export class ParamError extends Error {
  override readonly name = 'ParamError';
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

// Deeper nesting than any Stripe list or retrieve parameter needs; a bound keeps a hostile or
// buggy query from building arbitrarily deep structures.
const MAX_DEPTH = 5;
// Keys that would reach Object.prototype through ordinary property assignment.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Splits `a[b][]` into ['a', 'b', '']; throws on unbalanced brackets or text after them. */
function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open === -1) return [key];
  const parts = [key.slice(0, open)];
  let rest = key.slice(open);
  while (rest.length > 0) {
    const m = /^\[([^[\]]*)\]/.exec(rest);
    if (!m) throw new ParamError(`Invalid parameter name: ${key}`, key);
    parts.push(m[1] ?? '');
    rest = rest.slice(m[0].length);
  }
  return parts;
}

/** Internal tree: arrays are built as index→value maps first, so `[0]`, `[1]` and `[]` mix. */
type Node = { kind: 'leaf'; value: string } | { kind: 'map'; entries: Map<string, Node>; appended: number };

function newMap(): Node & { kind: 'map' } {
  return { kind: 'map', entries: new Map(), appended: 0 };
}

function conflict(name: string): ParamError {
  // Stripe answers `a=1&a[b]=2` with 400 as well: one name cannot be both a value and a hash.
  return new ParamError(`Invalid parameter: ${name} was given both as a value and as a hash or array`, name);
}

function displayName(parts: string[]): string {
  return parts[0] + parts.slice(1).map((p) => `[${p}]`).join('');
}

/**
 * Parses a form-encoded string (query string or `application/x-www-form-urlencoded` body).
 * Objects whose keys are all array indices (or `[]`) become arrays, ordered by index, as Rack
 * and qs do; a repeated plain key keeps its last value, as Rack does.
 */
export function parseFormParams(input: string | URLSearchParams): ParamObject {
  const search = typeof input === 'string' ? new URLSearchParams(input) : input;
  const root = newMap();
  for (const [rawKey, value] of search) {
    if (rawKey === '') continue;
    const parts = splitKey(rawKey);
    if (parts[0] === '') throw new ParamError(`Invalid parameter name: ${rawKey}`, rawKey);
    if (parts.length - 1 > MAX_DEPTH) throw new ParamError(`Parameter nested too deeply: ${rawKey}`, rawKey);
    for (const p of parts) if (FORBIDDEN_KEYS.has(p)) throw new ParamError(`Received unknown parameter: ${rawKey}`, rawKey);

    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      let key = parts[i] as string;
      // `[]` appends: give it a key no explicit index can collide with, kept in arrival order.
      if (key === '') key = `\u0000${node.appended++}`;
      const existing = node.entries.get(key);
      if (last) {
        if (existing && existing.kind === 'map') throw conflict(displayName(parts.slice(0, i + 1)));
        node.entries.set(key, { kind: 'leaf', value });
      } else {
        if (existing && existing.kind === 'leaf') throw conflict(displayName(parts.slice(0, i + 1)));
        const next = existing ?? newMap();
        node.entries.set(key, next);
        node = next;
      }
    }
  }
  return toObject(root);
}

const INDEX = /^(0|[1-9]\d{0,5})$/;
const APPENDED = /^\u0000\d+$/;

function toValue(node: Node, name: string): ParamValue {
  if (node.kind === 'leaf') return node.value;
  const keys = [...node.entries.keys()];
  const isArray = keys.length > 0 && keys.every((k) => INDEX.test(k) || APPENDED.test(k));
  if (!isArray) {
    // An appended element next to named keys (`a[x]=1&a[]=2`) has no sensible meaning.
    const bad = keys.find((k) => APPENDED.test(k));
    if (bad !== undefined) throw new ParamError(`Invalid array: ${name} mixes [] with named keys`, name);
    return toObject(node, name);
  }
  // Indexed entries by index, appended ones after them in arrival order; sparse indices are
  // compacted (qs does the same), so `a[5]=x` alone is ['x'], not an array of length 6.
  const indexed = keys.filter((k) => INDEX.test(k)).sort((a, b) => Number(a) - Number(b));
  const appended = keys.filter((k) => APPENDED.test(k));
  return [...indexed, ...appended].map((k, i) => toValue(node.entries.get(k) as Node, `${name}[${i}]`));
}

function toObject(node: Node & { kind: 'map' }, name?: string): ParamObject {
  const out: ParamObject = {};
  for (const [k, child] of node.entries) out[k] = toValue(child, name === undefined ? k : `${name}[${k}]`);
  return out;
}
