/** One sample of Prometheus' text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const unescape = (v: string) => v.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));

/** Parses the text format (version 0.0.4) as Prometheus reads it: samples, and each family's TYPE. */
export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = unescape(l[2]!);
    const raw = m[3]!;
    samples.push({ name: m[1]!, labels, value: raw === 'NaN' ? NaN : raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return { samples, types };
}

/** A scraped page, read like PromQL's instant selectors: a name and an exact label match. */
export class Scrape {
  readonly samples: Sample[];
  readonly types: Map<string, string>;

  constructor(readonly text: string) {
    ({ samples: this.samples, types: this.types } = parseExposition(text));
  }

  /** Every sample of `name` whose labels include `labels`. */
  select(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The one sample of `name` with exactly these labels (histogram `le` aside); throws when absent. */
  value(name: string, labels: Record<string, string> = {}): number {
    const want = Object.keys(labels).length;
    const found = this.select(name, labels).filter((s) => Object.keys(s.labels).length === want);
    if (found.length !== 1) throw new Error(`${found.length} samples of ${name}${JSON.stringify(labels)}`);
    return found[0]!.value;
  }

  /** The values of one label across a family's samples, e.g. its outcomes. */
  labelValues(name: string, label: string): string[] {
    return [...new Set(this.select(name).map((s) => s.labels[label]!))].sort();
  }

  has(name: string): boolean {
    return this.types.has(name) || this.samples.some((s) => s.name === name);
  }

  /** The non-zero values of a labelled counter, keyed by its label values joined with `/`. */
  nonZero(name: string, labels: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.select(name)) if (s.value !== 0) out[labels.map((l) => s.labels[l]).join('/')] = s.value;
    return out;
  }
}

export async function scrape(url: string, token?: string): Promise<Scrape> {
  const res = await fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  expectPrometheusContentType(res.headers.get('content-type'));
  return new Scrape(await res.text());
}

function expectPrometheusContentType(type: string | null): void {
  if (!type || !/^text\/plain; version=0\.0\.4/.test(type)) throw new Error(`not Prometheus' text format: ${type}`);
}
