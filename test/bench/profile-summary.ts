// tsx test/bench/profile-summary.ts file.cpuprofile [top]: where a process spent its CPU, from a
// `--cpu-prof` profile (BENCH_PROFILE_DIR=dir npm run bench writes one per product process):
// the functions with the most self time, and self time summed by package and by source file.
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** `node_modules/@scope/name` or `node_modules/name` as the package; our own files by path; node's internals as `node:`. */
function owner(url: string): string {
  if (!url) return '(native / vm)';
  if (url.startsWith('node:')) return 'node: internals';
  const i = url.lastIndexOf('node_modules/');
  if (i >= 0) {
    const rest = url.slice(i + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url.replace(/^file:\/\//, '');
}

function add(m: Map<string, number>, k: string, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

function main(): void {
  const file = process.argv[2];
  const top = Number(process.argv[3] ?? 40);
  if (!file) throw new Error('usage: profile-summary.ts file.cpuprofile [top]');
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  const src = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url ? `${path.basename(url)}:${lineNumber + 1}` : '';
    add(fn, `${functionName || '(anonymous)'} ${where} [${owner(url)}]`, us);
    add(pkg, owner(url).split('/').slice(0, owner(url).startsWith('src/') ? 2 : 1).join('/'), us);
    if (url.includes('/dist/src/')) add(src, owner(url), us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
  const print = (title: string, m: Map<string, number>, n: number) => {
    process.stdout.write(`\n${title}\n`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
  };
  process.stdout.write(`${path.basename(file)}: ${(total / 1e6).toFixed(2)} s sampled over ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s\n`);
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
      if (!url) continue;
      seen.add(`${functionName || '(anonymous)'} ${path.basename(url)}:${lineNumber + 1} [${owner(url)}]`);
    }
    for (const k of seen) add(inclusive, k, us);
  }
  print('self time by function', fn, top);
  print('total time by function (callees included)', inclusive, top);
  print('self time by package', pkg, 25);
  print('self time by source file', src, 25);
}

main();
